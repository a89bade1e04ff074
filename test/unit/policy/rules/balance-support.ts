// Builds clusters for the balance rule's tests and runs it through the manager's round (`step`),
// so every proposal also meets the core's admission, budgets and cooldowns.

import type { ClusterSnapshot, ContainerState, NodeState } from '../../../../src/domain';
import {
  balanceConfigSchema,
  balanceRule,
  emptyCore,
  step,
  type BalanceConfig,
  type Command,
  type CoreSettings,
  type ManagerCore,
  type SagaOutcome,
} from '../../../../src/policy';
import { GiB, MiB, NOW } from '../fixtures';

export const settings: CoreSettings = {
  scope: { vmidMin: 1000, vmidMax: 1999 },
  capacityBasis: 'used',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 8,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

export function balance(overrides: Record<string, unknown> = {}): BalanceConfig {
  return balanceConfigSchema.parse({
    enabled: true,
    weights: { cpu: 0, memory: 1 },
    threshold: 0.2,
    target: 0.1,
    holdRounds: 2,
    margin: 0.01,
    cooldownSeconds: 600,
    ...overrides,
  });
}

export interface CtSpec {
  vmid: number;
  node: string;
  memGiB: number;
  limitGiB?: number;
  cpu?: number;
  cores?: number;
  status?: ContainerState['status'];
}

export function container(s: CtSpec): ContainerState {
  return {
    vmid: s.vmid,
    name: `ct-${s.vmid}`,
    node: s.node,
    status: s.status ?? 'running',
    cpu: s.cpu ?? 0.1,
    maxcpu: s.cores ?? 1,
    mem: s.status === 'stopped' ? 0 : s.memGiB * GiB,
    maxmem: (s.limitGiB ?? Math.max(1, s.memGiB * 2)) * GiB,
    disk: 0,
    maxdisk: 8 * GiB,
    uptime: 3600,
    tags: [],
    template: false,
  };
}

/** Nodes of `memGiB` (default 64) whose used memory is 1 GiB of host plus their containers'. */
export function cluster(
  nodes: ReadonlyArray<{ name: string; memGiB?: number; cpus?: number; online?: boolean }>,
  cts: readonly CtSpec[],
  takenAt = NOW,
): ClusterSnapshot {
  const containers = cts.map(container).sort((a, b) => a.vmid - b.vmid);
  const nodeStates: NodeState[] = nodes.map((n) => {
    const mine = containers.filter((c) => c.node === n.name);
    const cpus = n.cpus ?? 32;
    return {
      name: n.name,
      status: n.online === false ? 'offline' : 'online',
      cpu: mine.reduce((a, c) => a + c.cpu * c.maxcpu, 0) / cpus,
      maxcpu: cpus,
      mem: GiB + mine.reduce((a, c) => a + c.mem, 0),
      maxmem: (n.memGiB ?? 64) * GiB,
      disk: 10 * GiB,
      maxdisk: 100 * GiB,
    };
  });
  return { takenAt, nodes: nodeStates, containers };
}

/** The snapshot after `moves` completed: containers on their targets, node memory moved with them. */
export function afterMoves(
  snapshot: ClusterSnapshot,
  moves: ReadonlyArray<{ vmid: number; to: string }>,
): ClusterSnapshot {
  const next: ClusterSnapshot = structuredClone(snapshot);
  for (const m of moves) {
    const ct = next.containers.find((c) => c.vmid === m.vmid);
    if (!ct) continue;
    const from = next.nodes.find((n) => n.name === ct.node);
    const to = next.nodes.find((n) => n.name === m.to);
    if (from) from.mem -= ct.mem;
    if (to) to.mem += ct.mem;
    ct.node = m.to;
  }
  return next;
}

export interface Round {
  core: ManagerCore;
  commands: Command[];
  notes: string[];
}

/** One manager round with only the balance rule. */
export function round(
  core: ManagerCore,
  snapshot: ClusterSnapshot,
  config: BalanceConfig,
  opts: { now?: number; cycle?: number; outcomes?: SagaOutcome[]; settings?: CoreSettings } = {},
): Round {
  const result = step({
    core,
    settings: opts.settings ?? settings,
    automation: 'auto',
    rules: [{ rule: balanceRule, config }],
    snapshot,
    cycle: opts.cycle ?? 1,
    evaluate: true,
    now: opts.now ?? snapshot.takenAt,
    outcomes: opts.outcomes ?? [],
  });
  return { core: result.core, commands: result.commands, notes: result.notes };
}

export { emptyCore, GiB, MiB, NOW };
