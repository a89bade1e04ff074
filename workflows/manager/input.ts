// The manager's input, checked before anything else runs: a bad field fails the run at once, with
// its path, instead of a TypeError that retries the workflow task for ever. Rule sections are
// checked by each rule's own schema, so `rules.lab.dropPercent` reads like the config error would.

import { z } from 'zod';
import { describeIssues } from '../../src/domain';
import {
  affinityRulesSchema,
  ruleNames,
  ruleRegistry,
  type CoreSettings,
  type RuleBase,
} from '../../src/policy';
import type { LegacyManagerInput, LegacyManagerState } from './legacy-v1';
import type { ManagerInput, ManagerState } from '../messages';

const level = z.enum(['off', 'recommend', 'auto']);
const count = z.number().int().min(1).max(64);

/** Shared with the node drain input. */
export const settingsSchema = z.strictObject({
  scope: z.strictObject({
    vmidMin: z.number().int().min(100),
    vmidMax: z.number().int().min(100),
    pool: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
  }),
  capacityBasis: z.enum(['allocated', 'used']),
  admissionShare: z.number().gt(0).max(1),
  cpuShare: z.number().gt(0).max(1),
  maxConcurrent: count,
  maxPerNode: count,
  maxPerKind: z.strictObject({ migrate: count.optional(), scale: count.optional(), drop: count.optional() }),
  cooldownMs: z.number().min(0),
  drainedNodes: z.array(z.string()),
  affinity: affinityRulesSchema.optional(),
  zones: z.record(z.string(), z.array(z.string())).optional(),
});

const inputSchema = z.object({
  cluster: z.string().min(1),
  settings: settingsSchema,
  automation: level,
  rules: z.record(z.string(), z.unknown()),
  cycleSeconds: z.number().gt(0),
  seed: z.number().int(),
  iterationsPerRun: z.number().int().min(1).optional(),
  carried: z.unknown().optional(),
});

export class ManagerInputError extends Error {}

/** The input with every rule's config parsed (defaults filled in); throws ManagerInputError. */
export function parseManagerInput(raw: unknown): { input: ManagerInput; rules: Record<string, RuleBase> } {
  const upgraded = upgradeLegacyInput(raw);
  const parsed = inputSchema.safeParse(upgraded);
  if (!parsed.success) throw new ManagerInputError(describeIssues(parsed.error));
  const unknown = Object.keys(parsed.data.rules).filter((name) => !(ruleNames as string[]).includes(name));
  if (unknown.length > 0) {
    throw new ManagerInputError(`rules: unknown rule ${unknown.join(', ')} (known: ${ruleNames.join(', ')})`);
  }
  const rules: Record<string, RuleBase> = {};
  for (const name of ruleNames) {
    const section = ruleRegistry[name].config.safeParse(parsed.data.rules[name] ?? {});
    if (!section.success) {
      throw new ManagerInputError(
        describeIssues(section.error)
          .split('; ')
          .map((p) => `rules.${name}.${p}`)
          .join('; '),
      );
    }
    rules[name] = section.data;
  }
  return { input: parsed.data as ManagerInput, rules };
}

/**
 * The lab-only manager's input (a flat `policy`) as the decision core takes it, carried state
 * included: how a run that began before the decision core continues as new into it.
 */
export function upgradeLegacyInput(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('policy' in raw)) return raw;
  const legacy = raw as LegacyManagerInput;
  const p = legacy.policy ?? ({} as LegacyManagerInput['policy']);
  const settings: CoreSettings = {
    scope: p.scope,
    capacityBasis: p.capacityBasis,
    admissionShare: p.admissionShare,
    cpuShare: 0.9,
    maxConcurrent: p.maxConcurrent,
    maxPerNode: 2,
    maxPerKind: {},
    cooldownMs: p.cooldownMs,
    drainedNodes: [],
  };
  const lab = {
    migratePercent: p.migratePercent,
    dropPercent: p.dropPercent,
    migrateChoice: p.migrateChoice,
    dropMode: p.dropMode,
  };
  const { policy: _policy, carried, ...rest } = legacy;
  return {
    ...rest,
    settings,
    rules: { lab },
    ...(carried ? { carried: upgradeLegacyState(carried, settings) } : {}),
  };
}

function upgradeLegacyState(old: LegacyManagerState, settings: CoreSettings): ManagerState {
  const p = old.policy;
  return {
    runState: old.runState,
    automation: old.automation,
    settings,
    rules: {
      lab: {
        enabled: true,
        automation: 'auto',
        priority: 40,
        migratePercent: p.migratePercent,
        dropPercent: p.dropPercent,
        migrateChoice: p.migrateChoice,
        dropMode: p.dropMode,
      } as RuleBase,
    },
    cycle: old.cycle,
    ...(old.lastObservation ? { lastObservation: old.lastObservation } : {}),
    ...(old.notes ? { notes: old.notes } : {}),
    core: {
      // The old run waited for its sagas before continuing as new: nothing is in flight.
      decisions: old.decisions.map((d) =>
        d.status === 'running' ? { ...d, status: 'expired' as const } : d,
      ),
      cooldownUntil: { ...old.memory.cooldownUntil },
      ruleStates: {},
      seed: old.memory.seed >>> 0,
    },
  };
}
