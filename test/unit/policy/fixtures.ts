// Builders for small clusters in policy tests: sizes in GiB/MiB as people think of them.

import type { Action, ClusterSnapshot, ContainerState, NodeState } from '../../../src/domain';
import {
  createRuleContext,
  emptyMemory,
  type DecisionMemory,
  type ManagerPolicy,
  type LabRule,
} from '../../../src/policy';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const NOW = 1_700_000_000_000;

export function node(name: string, maxmemGiB = 16, extra: Partial<NodeState> = {}): NodeState {
  return {
    name,
    status: 'online',
    cpu: 0.1,
    maxcpu: 8,
    mem: 2 * GiB,
    maxmem: maxmemGiB * GiB,
    disk: 0,
    maxdisk: 100 * GiB,
    ...extra,
  };
}

export function ct(
  vmid: number,
  nodeName: string,
  maxmemMiB = 512,
  extra: Partial<ContainerState> = {},
): ContainerState {
  return {
    vmid,
    name: `ct-${vmid}`,
    node: nodeName,
    status: 'running',
    cpu: 0.01,
    maxcpu: 1,
    mem: (maxmemMiB * MiB) / 2,
    maxmem: maxmemMiB * MiB,
    disk: 0,
    maxdisk: 4 * GiB,
    uptime: 100,
    tags: [],
    template: false,
    ...extra,
  };
}

export function snapshot(nodes: NodeState[], containers: ContainerState[]): ClusterSnapshot {
  return { takenAt: NOW, nodes, containers };
}

/** The lab's manager: 1400-1499, allocated basis, migrate over 8 %, drop over 12 %. */
export function labPolicy(overrides: Partial<ManagerPolicy> = {}): ManagerPolicy {
  return {
    scope: { vmidMin: 1400, vmidMax: 1499 },
    capacityBasis: 'allocated',
    migratePercent: 8,
    dropPercent: 12,
    migrateChoice: 'best-fit',
    dropMode: 'destroy',
    maxConcurrent: 2,
    cooldownMs: 60_000,
    admissionShare: 0.9,
    ...overrides,
  };
}

export function memory(overrides: Partial<DecisionMemory> = {}): DecisionMemory {
  return { ...emptyMemory(NOW, 42), ...overrides };
}

/** Runs one rule alone, with the draws it should see, and collects its notes. */
export function runRule(
  rule: LabRule,
  cluster: ClusterSnapshot,
  policy: ManagerPolicy,
  mem: DecisionMemory = memory(),
  draws: number[] = [],
): { actions: Action[]; notes: string[] } {
  const notes: string[] = [];
  const queue = [...draws];
  const ctx = createRuleContext(cluster, policy, mem, {
    random: () => {
      const u = queue.shift();
      if (u === undefined) throw new Error('the rule drew more numbers than the test provided');
      return u;
    },
    note: (text) => notes.push(text),
  });
  return { actions: rule(ctx), notes };
}
