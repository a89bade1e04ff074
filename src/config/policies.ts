// The config turned into the plain-JSON policies that workflows carry and src/policy decides with.

import type { ContainerTemplate, ManagedScope } from '../domain';
import type { ArrivalLaw, GeneratorPolicy, ManagerPolicy } from '../policy';
import type { Config } from './schema';

export function managedScopeOf(config: Config): ManagedScope {
  const { vmidMin, vmidMax, pool, tag } = config.scope;
  return { vmidMin, vmidMax, ...(pool === undefined ? {} : { pool }), ...(tag === undefined ? {} : { tag }) };
}

export function managerPolicyOf(config: Config): ManagerPolicy {
  const m = config.manager;
  return {
    scope: managedScopeOf(config),
    capacityBasis: m.capacityBasis,
    migratePercent: m.thresholds.migratePercent,
    dropPercent: m.thresholds.dropPercent,
    migrateChoice: m.migrateChoice,
    dropMode: m.dropMode,
    maxConcurrent: m.maxConcurrent,
    cooldownMs: m.cooldownSeconds * 1000,
    admissionShare: m.admissionShare,
  };
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
  };
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
