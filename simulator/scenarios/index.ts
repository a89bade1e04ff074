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

/** `fleet-<N>`: fleet-large's shape with N containers (1..10000), for benchmarks at other sizes. */
const SIZED_FLEET = /^fleet-(\d+)$/;

export function loadScenario(name: string, seed: number): ScenarioSpec {
  const sized = SIZED_FLEET.exec(name);
  if (sized) {
    const size = Number(sized[1]);
    if (size >= 1 && size <= 10_000) return fleetLarge(seed, size);
  }
  const build = SCENARIOS[name];
  if (!build) throw new Error(`unknown scenario '${name}' (expected one of: ${scenarioNames().join(', ')})`);
  return build(seed);
}
