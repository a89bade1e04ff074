// Runs the autoscale rule over a sequence of observations, as the manager's rounds would.

import { isManaged, type ClusterSnapshot, type ContainerState } from '../../../../src/domain';
import {
  autoscaleConfigSchema,
  autoscaleRule,
  nodeLoadsOf,
  projectCluster,
  type AutoscaleConfig,
  type AutoscaleState,
  type CoreSettings,
  type Proposal,
  type RuleView,
} from '../../../../src/policy';
import { GiB, MiB, NOW } from '../fixtures';

export const settings: CoreSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 8,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

export function autoscale(overrides: Record<string, unknown> = {}): AutoscaleConfig {
  return autoscaleConfigSchema.parse({ enabled: true, ...overrides });
}

/** A running container with `cores` cores at `cpu` of them, `memMiB` used of `limitMiB`. */
export function box(
  vmid: number,
  opts: {
    node?: string;
    cores?: number;
    cpu?: number;
    limitMiB?: number;
    memMiB?: number;
    extra?: Partial<ContainerState>;
  } = {},
): ContainerState {
  const limit = opts.limitMiB ?? 1024;
  return {
    vmid,
    name: `ct-${vmid}`,
    node: opts.node ?? 'pve1',
    status: 'running',
    cpu: opts.cpu ?? 0.5,
    maxcpu: opts.cores ?? 2,
    mem: (opts.memMiB ?? limit / 2) * MiB,
    maxmem: limit * MiB,
    disk: 0,
    maxdisk: 4 * GiB,
    uptime: 3600,
    tags: [],
    template: false,
    ...opts.extra,
  };
}

export function host(
  name = 'pve1',
  opts: { memGiB?: number; usedGiB?: number; cpus?: number; cpu?: number } = {},
) {
  return {
    name,
    status: 'online' as const,
    cpu: opts.cpu ?? 0.1,
    maxcpu: opts.cpus ?? 16,
    mem: (opts.usedGiB ?? 4) * GiB,
    maxmem: (opts.memGiB ?? 32) * GiB,
    disk: 0,
    maxdisk: 100 * GiB,
  };
}

export function viewOf(snapshot: ClusterSnapshot, now: number, s: CoreSettings = settings): RuleView {
  const cluster = projectCluster(snapshot, s, []);
  return {
    snapshot,
    settings: s,
    now,
    loads: nodeLoadsOf(cluster),
    actionable: snapshot.containers
      .filter((c) => isManaged(c, s.scope) && cluster.nodes.get(c.node)?.online)
      .sort((a, b) => a.vmid - b.vmid),
    inFlight: [],
    random: () => 0,
  };
}

export interface Run {
  proposals: Proposal[];
  notes: string[];
  state: AutoscaleState;
  now: number;
}

/** One round per snapshot, 10 s apart (from `start`); returns the last round's result. */
export function rounds(
  config: AutoscaleConfig,
  snapshots: readonly ClusterSnapshot[],
  from: { state?: AutoscaleState; start?: number } = {},
): Run {
  let state = from.state ?? autoscaleRule.initialState();
  let now = from.start ?? NOW;
  let last: Run = { proposals: [], notes: [], state, now };
  for (const snap of snapshots) {
    const result = autoscaleRule.evaluate(viewOf({ ...snap, takenAt: now }, now), config, state);
    state = result.state;
    last = { ...result, now };
    now += 10_000;
  }
  return last;
}

export function times<T>(n: number, value: T): T[] {
  return Array.from({ length: n }, () => value);
}
