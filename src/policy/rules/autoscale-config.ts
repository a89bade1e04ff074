// The `autoscale:` config section: thresholds, limits and steps, the window, per-container
// overrides (by vmid, pool or tag) and the host protections. Off by default, so the lab's defaults
// are unchanged.

import { z } from 'zod';
import {
  flag,
  integerBetween,
  matching,
  nonEmptyText,
  numberBetween,
  reject,
  section,
  whenFieldsValid,
} from '../../config/fields';
import { ruleSection } from '../rule-config';

const DAY_SECONDS = 86_400;
const MAX_MEMORY_MIB = 4_194_304;
const PVE_TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;

/** The settings an override may change: what to react to and how far to go. */
const tunables = {
  /** Use of the container's own limit, in percent. */
  cpuUpPercent: numberBetween(1, 100),
  cpuDownPercent: numberBetween(0, 99),
  memoryUpPercent: numberBetween(1, 100),
  memoryDownPercent: numberBetween(0, 99),
  minCores: integerBetween(1, 8192),
  maxCores: integerBetween(1, 8192),
  minMemoryMiB: integerBetween(16, MAX_MEMORY_MIB),
  maxMemoryMiB: integerBetween(16, MAX_MEMORY_MIB),
  coreStep: integerBetween(1, 64),
  memoryStepMiB: integerBetween(16, 65_536),
  cooldownSeconds: numberBetween(0, DAY_SECONDS),
};

export type Tunables = { [K in keyof typeof tunables]: number };
export const tunableKeys = Object.keys(tunables) as Array<keyof Tunables>;

const overrideSchema = section({
  vmid: integerBetween(100, 999_999_999).optional(),
  pool: nonEmptyText('a pool id').optional(),
  tag: matching(PVE_TAG, 'a tag of letters, digits, _ - + .').optional(),
  /** false leaves the containers it selects alone, emergencies included. */
  enabled: flag().optional(),
  ...Object.fromEntries(tunableKeys.map((k) => [k, tunables[k].optional()])),
}).superRefine((o, ctx) => {
  const selectors = [o.vmid, o.pool, o.tag].filter((s) => s !== undefined).length;
  if (selectors !== 1) {
    reject(ctx, undefined, 'expected exactly one of vmid, pool or tag to select the containers', o);
  }
}, whenFieldsValid) as unknown as z.ZodType<AutoscaleOverride>;

export interface AutoscaleOverride extends Partial<Tunables> {
  vmid?: number;
  pool?: string;
  tag?: string;
  enabled?: boolean;
}

export const autoscaleConfigSchema = ruleSection(
  {
    cpuUpPercent: tunables.cpuUpPercent.default(80),
    cpuDownPercent: tunables.cpuDownPercent.default(30),
    memoryUpPercent: tunables.memoryUpPercent.default(85),
    memoryDownPercent: tunables.memoryDownPercent.default(40),
    minCores: tunables.minCores.default(1),
    maxCores: tunables.maxCores.default(8),
    minMemoryMiB: tunables.minMemoryMiB.default(512),
    maxMemoryMiB: tunables.maxMemoryMiB.default(8192),
    coreStep: tunables.coreStep.default(1),
    memoryStepMiB: tunables.memoryStepMiB.default(512),
    cooldownSeconds: tunables.cooldownSeconds.default(300),
    /** Cycles in the window; the window's average (or percentile) is what the thresholds see. */
    evaluationPeriods: integerBetween(1, 20).default(3),
    /** When set, the window's p-th percentile (nearest rank) instead of its average. */
    percentile: integerBetween(1, 100).optional(),
    overrides: z.array(overrideSchema, { error: 'expected a list of overrides' }).default([]),
    /** Scale operations at once, in flight included: the core's maxPerKind.scale while enabled. */
    maxConcurrent: integerBetween(1, 64).default(2),
    /** No scale-up that would take the node's projected CPU or memory use past these. */
    hostMaxCpuPercent: numberBetween(1, 100).default(95),
    hostMaxMemoryPercent: numberBetween(1, 100).default(95),
    /** A node using more memory than this gets its slackest containers shrunk at once. */
    emergencyHostMemoryPercent: numberBetween(1, 100).default(98),
  },
  { enabled: false, automation: 'auto', priority: 50 },
).superRefine((c, ctx) => {
  // Each override is checked on top of the section, so a conflict names the override at fault.
  const layers: Array<{ path: Array<string | number>; values: Tunables }> = [{ path: [], values: c }];
  c.overrides.forEach((o, i) => layers.push({ path: ['overrides', i], values: { ...c, ...definedOf(o) } }));
  for (const { path, values } of layers) {
    const problem = tunablesProblem(values);
    if (!problem) continue;
    const input = values[problem.field];
    ctx.addIssue({ code: 'custom', path: [...path, problem.field], message: problem.expected, input });
  }
}, whenFieldsValid);

export type AutoscaleConfig = z.output<typeof autoscaleConfigSchema>;

/** The first inconsistency of a set of tunables (down must stay below up, min below max), or null. */
export function tunablesProblem(t: Tunables): { field: keyof Tunables; expected: string } | null {
  if (t.cpuDownPercent >= t.cpuUpPercent)
    return { field: 'cpuDownPercent', expected: `expected less than cpuUpPercent (${t.cpuUpPercent})` };
  if (t.memoryDownPercent >= t.memoryUpPercent)
    return {
      field: 'memoryDownPercent',
      expected: `expected less than memoryUpPercent (${t.memoryUpPercent})`,
    };
  if (t.maxCores < t.minCores)
    return { field: 'maxCores', expected: `expected at least minCores (${t.minCores})` };
  if (t.maxMemoryMiB < t.minMemoryMiB)
    return { field: 'maxMemoryMiB', expected: `expected at least minMemoryMiB (${t.minMemoryMiB})` };
  return null;
}

/** The tunables an override sets, without its selector or the keys it leaves out. */
export function definedOf(o: AutoscaleOverride): Partial<Tunables> {
  const out: Partial<Tunables> = {};
  for (const k of tunableKeys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
