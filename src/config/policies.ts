// The config turned into the plain-JSON policies that workflows carry and src/policy decides with.

import {
  isManaged,
  zoneIndex,
  type ClusterSnapshot,
  type ContainerTemplate,
  type ManagedScope,
} from '../domain';
import {
  planSpread,
  projectCluster,
  ruleNames,
  spreadGroupsOf,
  type SpreadReport,
  type AffinityRule,
  type ArrivalLaw,
  type CoreSettings,
  type GeneratorPolicy,
  type RuleBase,
  type RuleName,
} from '../policy';
import type { Config } from './schema';

export function managedScopeOf(config: Config): ManagedScope {
  const { vmidMin, vmidMax, pool, tag } = config.scope;
  return { vmidMin, vmidMax, ...(pool === undefined ? {} : { pool }), ...(tag === undefined ? {} : { tag }) };
}

/** The settings every rule of the manager shares, from the manager section. */
export function coreSettingsOf(config: Config): CoreSettings {
  const m = config.manager;
  return {
    scope: managedScopeOf(config),
    capacityBasis: m.capacityBasis,
    admissionShare: m.admissionShare,
    cpuShare: m.cpuAdmissionShare,
    maxConcurrent: m.maxConcurrent,
    maxPerNode: m.maxPerNode,
    maxPerKind: maxPerKindOf(config),
    cooldownMs: m.cooldownSeconds * 1000,
    drainedNodes: [],
    ...affinityOf(config),
    // Left out when none are configured, so a zoneless manager's input reads as before zones.
    ...(Object.keys(config.zones).length > 0 ? { zones: structuredClone(config.zones) } : {}),
  };
}

/** The affinity rules, when there are any: without, payloads stay as they were before them. */
function affinityOf(config: Config): { affinity?: AffinityRule[] } {
  const rules = config.affinity.rules;
  return rules.length === 0 ? {} : { affinity: rules.map((r) => ({ ...r })) };
}

/** Autoscaling's maxConcurrent is the cap on scale operations at once while it is enabled. */
function maxPerKindOf(config: Config): CoreSettings['maxPerKind'] {
  const kinds = { ...config.manager.maxPerKind };
  if (config.autoscale.enabled) {
    kinds.scale = Math.min(kinds.scale ?? config.autoscale.maxConcurrent, config.autoscale.maxConcurrent);
  }
  return kinds;
}

/** Each rule's config section, by rule name, as the manager workflow takes them. */
export function ruleConfigsOf(config: Config): Record<RuleName, RuleBase> {
  const configs: Partial<Record<RuleName, RuleBase>> = {};
  for (const name of ruleNames) configs[name] = { ...config[name] };
  return configs as Record<RuleName, RuleBase>;
}

/** The generator measures its limit on the manager's capacity basis, as the lab did. */
export function generatorPolicyOf(config: Config): GeneratorPolicy {
  const g = config.generator;
  return {
    scope: managedScopeOf(config),
    capacityBasis: config.manager.capacityBasis,
    limitPercent: g.limitPercent,
    nodeWeights: { ...g.nodeWeights },
    memoryChoicesMiB: [...g.memoryChoicesMiB],
    ...affinityOf(config),
    ...spreadPlacementOf(config),
  };
}

/** New containers join the scope's pool: placement keeps that pool spread, unless it is excluded. */
function spreadPlacementOf(config: Config): Pick<GeneratorPolicy, 'spread'> {
  const pool = config.scope.pool;
  if (pool === undefined || config.spread.excludePools.includes(pool)) return {};
  return { spread: { pool, zones: structuredClone(config.zones) } };
}

/** What each generated container looks like (the container section without its allocation setting). */
export function containerTemplateOf(config: Config): ContainerTemplate {
  const { vmidQuarantineMinutes: _allocation, ...template } = config.container;
  return template;
}

export function arrivalLawOf(config: Config): ArrivalLaw {
  const a = config.generator.arrival;
  switch (a.law) {
    case 'periodic':
      return { law: 'periodic', periodSeconds: a.meanSeconds };
    case 'uniform':
      return { law: 'uniform', minSeconds: a.minSeconds, maxSeconds: a.maxSeconds };
    case 'exponential':
      return { law: 'exponential', meanSeconds: a.meanSeconds };
  }
}

/**
 * The spread plan of every group as `spread check` and the pool-spread alert judge it: every
 * managed, unlocked container on an online node is movable, nothing is in flight.
 */
export function spreadReportsOf(
  config: Config,
  snapshot: ClusterSnapshot,
  excludePools: readonly string[] = config.spread.excludePools,
): SpreadReport[] {
  const settings = coreSettingsOf(config);
  const cluster = projectCluster(snapshot, settings, []);
  return planSpread({
    snapshot,
    cluster,
    zones: zoneIndex(config.zones),
    groups: spreadGroupsOf(snapshot.containers, { excludePools, tagPrefix: config.spread.tagPrefix }),
    movable: (ct) =>
      isManaged(ct, settings.scope) &&
      (ct.lock === undefined || ct.lock === '') &&
      cluster.nodes.get(ct.node)?.online === true,
  });
}
