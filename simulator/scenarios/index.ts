// The scenario catalogue: name → builder (seeded).
import { fleetLarge } from './fleet-large.js';
import { lab2node } from './lab-2node.js';
import { lab2nodeAutoscale } from './lab-2node-autoscale.js';
import type { ScenarioSpec } from './types.js';
import { zones6node } from './zones-6node.js';

export const SCENARIOS: Record<string, (seed: number) => ScenarioSpec> = {
  'lab-2node': lab2node,
  'lab-2node-autoscale': lab2nodeAutoscale,
  'zones-6node': zones6node,
  'fleet-large': fleetLarge,
};

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

export function loadScenario(name: string, seed: number): ScenarioSpec {
  const build = SCENARIOS[name];
  if (!build) throw new Error(`unknown scenario '${name}' (expected one of: ${scenarioNames().join(', ')})`);
  return build(seed);
}
