// The one projected cluster of a manager round: the observation with every operation in flight and
// every proposal accepted so far applied to it. Admission and budgets are checked here, once, for
// every rule, so no two proposals spend the same headroom and no plan overcommits a node.

import { isManaged, type Action, type ClusterSnapshot, type ContainerState } from '../domain';
import { affinityProblem, indexAffinity, type AffinityIndex } from './affinity';
import { compareNames, footprintBytes, type NodeLoad } from './capacity';
import { formatMiB, formatPercent } from './format';
import type { CoreSettings } from './rule';

const MiB = 1024 * 1024;

export interface ProjectedNode {
  name: string;
  online: boolean;
  drained: boolean;
  maxmem: number;
  /** Memory in use on the node, plus the limits of containers on their way in. */
  usedBytes: number;
  /** The managed containers' memory on the capacity basis (what the lab thresholds measure). */
  managedBytes: number;
  maxcpu: number;
  /** Cores in use, plus the use of containers on their way in. */
  cpuCores: number;
  /** Migrations into or out of the node, in flight and accepted. */
  migrations: number;
}

export interface ProjectedCluster {
  readonly settings: CoreSettings;
  readonly nodes: ReadonlyMap<string, ProjectedNode>;
  readonly containers: ContainerIndex;
  /** Operations in flight and accepted this round, in total and by kind. */
  operations: number;
  byKind: Partial<Record<Action['kind'], number>>;
  /** Containers with an operation in flight or accepted this round: one operation per container. */
  readonly busy: Set<number>;
  /** Where migrations in flight or accepted put a container (null: destroyed), for affinity checks. */
  readonly placed: Map<number, string | null>;
  /** The affinity rules' members, when the settings have rules. */
  readonly affinity: AffinityIndex | undefined;
}

export function projectCluster(
  snapshot: ClusterSnapshot,
  settings: CoreSettings,
  inFlight: readonly Action[],
): ProjectedCluster {
  const drained = new Set(settings.drainedNodes);
  const nodes = new Map<string, ProjectedNode>();
  for (const n of snapshot.nodes) {
    nodes.set(n.name, {
      name: n.name,
      online: n.status === 'online' && n.maxmem > 0,
      drained: drained.has(n.name),
      maxmem: n.maxmem,
      usedBytes: n.mem,
      managedBytes: 0,
      maxcpu: n.maxcpu,
      cpuCores: n.cpu * n.maxcpu,
      migrations: 0,
    });
  }
  const containers = indexByVmid(snapshot.containers);
  for (const ct of snapshot.containers) {
    const node = nodes.get(ct.node);
    if (node && isManaged(ct, settings.scope))
      node.managedBytes += footprintBytes(ct, settings.capacityBasis);
  }
  const cluster: ProjectedCluster = {
    settings,
    nodes,
    containers,
    operations: 0,
    byKind: {},
    busy: new Set(),
    placed: new Map(),
    affinity:
      settings.affinity !== undefined && settings.affinity.length > 0
        ? indexAffinity(settings.affinity, snapshot.containers)
        : undefined,
  };
  for (const action of inFlight) applyAction(cluster, action, true);
  return cluster;
}

/** Containers by vmid; only looked up for the few containers that proposals name. */
export interface ContainerIndex {
  get(vmid: number): ContainerState | undefined;
}

/**
 * Observations list containers sorted by vmid (toClusterSnapshot sorts them), so a binary search
 * over the list finds one without building a map of every container each round; any other order
 * (or a repeated vmid) gets a map, whose last entry wins as before.
 */
function indexByVmid(list: readonly ContainerState[]): ContainerIndex {
  for (let i = 1; i < list.length; i++) {
    if ((list[i - 1] as ContainerState).vmid >= (list[i] as ContainerState).vmid) {
      return new Map(list.map((ct) => [ct.vmid, ct]));
    }
  }
  return {
    get(vmid) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((list[mid] as ContainerState).vmid < vmid) lo = mid + 1;
        else hi = mid;
      }
      const ct = list[lo];
      return ct !== undefined && ct.vmid === vmid ? ct : undefined;
    },
  };
}

/**
 * Online nodes as the rules measure them, sorted by name. A drained node is left out: it neither
 * sheds to the rules (its drain moves its containers) nor takes from them.
 */
export function nodeLoadsOf(cluster: ProjectedCluster): NodeLoad[] {
  const loads: NodeLoad[] = [];
  for (const n of cluster.nodes.values()) {
    if (!n.online || n.drained) continue;
    loads.push({ node: n.name, managedBytes: n.managedBytes, maxmem: n.maxmem, usedBytes: n.usedBytes });
  }
  return loads.sort((a, b) => compareNames(a.node, b.node));
}

/** Why the cluster cannot take `action` now (a node would be overcommitted), or null. */
export function admissionProblem(cluster: ProjectedCluster, action: Action): string | null {
  const { admissionShare, cpuShare } = cluster.settings;
  switch (action.kind) {
    case 'migrate': {
      const ct = cluster.containers.get(action.vmid);
      if (!ct) return `CT ${action.vmid} is not in the observation`;
      if (ct.node !== action.from) return `CT ${action.vmid} is on ${ct.node}, not ${action.from}`;
      // PVE refuses it (the target is the local node); admitted, it would spend two per-node slots.
      if (action.to === action.from) return `CT ${action.vmid} is on ${action.to} already`;
      const target = cluster.nodes.get(action.to);
      const closed = closedProblem(target, action.to);
      if (closed || !target) return closed;
      if (target.usedBytes + ct.maxmem > admissionShare * target.maxmem) {
        return memoryProblem(target, ct.maxmem, admissionShare);
      }
      const cores = ct.status === 'running' ? ct.cpu * ct.maxcpu : 0;
      if (target.cpuCores + cores > cpuShare * target.maxcpu) {
        return `${target.name} would use ${formatPercent(((target.cpuCores + cores) * 100) / target.maxcpu)} of its CPU, above the ${formatPercent(cpuShare * 100)} admission limit`;
      }
      // Strict affinity rules bind every rule's moves, here, where every proposal passes.
      return affinityProblem(action, cluster) ?? null;
    }
    case 'scale': {
      const ct = cluster.containers.get(action.vmid);
      if (!ct) return `CT ${action.vmid} is not in the observation`;
      const node = cluster.nodes.get(ct.node);
      if (!node?.online) return `node ${ct.node} is not online`;
      if (action.cores !== undefined && action.cores > node.maxcpu) {
        return `${action.cores} cores is more than ${node.name} has (${node.maxcpu})`;
      }
      const growth = scaleGrowthBytes(ct, action);
      if (growth > 0 && node.usedBytes + growth > admissionShare * node.maxmem) {
        return memoryProblem(node, growth, admissionShare);
      }
      return null;
    }
    case 'provision': {
      const node = cluster.nodes.get(action.node);
      const closed = closedProblem(node, action.node);
      if (closed || !node) return closed;
      const bytes = action.memoryMiB * MiB;
      if (node.usedBytes + bytes > admissionShare * node.maxmem)
        return memoryProblem(node, bytes, admissionShare);
      return null;
    }
    case 'drop':
      return null;
  }
}

/** Why `action` must wait for a free slot (global, per kind, per node), or null. */
export function budgetProblem(cluster: ProjectedCluster, action: Action): string | null {
  const { maxConcurrent, maxPerKind, maxPerNode } = cluster.settings;
  if (cluster.operations >= maxConcurrent) {
    return `at most ${maxConcurrent} operation(s) at once, ${cluster.operations} in flight or planned`;
  }
  const kindLimit = maxPerKind[action.kind];
  const ofKind = cluster.byKind[action.kind] ?? 0;
  if (kindLimit !== undefined && ofKind >= kindLimit) {
    return `at most ${kindLimit} ${action.kind} operation(s) at once, ${ofKind} in flight or planned`;
  }
  if (action.kind === 'migrate') {
    for (const name of [action.from, action.to]) {
      const n = cluster.nodes.get(name);
      if (n && n.migrations >= maxPerNode) {
        return `at most ${maxPerNode} migration(s) into or out of ${name} at once`;
      }
    }
  }
  return null;
}

/** Reserves what `action` will take (and releases what it frees) in the projection. */
export function applyAction(cluster: ProjectedCluster, action: Action, inFlight = false): void {
  cluster.operations++;
  cluster.byKind[action.kind] = (cluster.byKind[action.kind] ?? 0) + 1;
  const basis = cluster.settings.capacityBasis;
  if (action.kind === 'provision') {
    const node = cluster.nodes.get(action.node);
    if (!node) return;
    const bytes = action.memoryMiB * MiB;
    if (basis === 'allocated') node.managedBytes += bytes;
    node.usedBytes += bytes;
    return;
  }
  cluster.busy.add(action.vmid);
  if (action.kind === 'migrate') cluster.placed.set(action.vmid, action.to);
  if (action.kind === 'drop' && action.mode === 'destroy') cluster.placed.set(action.vmid, null);
  if (action.kind === 'migrate') {
    // Counted whatever the observation shows of the container: the move is under way all the same.
    const source = cluster.nodes.get(action.from);
    const target = cluster.nodes.get(action.to);
    if (source) source.migrations++;
    if (target) target.migrations++;
  }
  const ct = cluster.containers.get(action.vmid);
  if (!ct) return;
  const managed = isManaged(ct, cluster.settings.scope);
  const here = cluster.nodes.get(ct.node);
  switch (action.kind) {
    case 'migrate': {
      const target = cluster.nodes.get(action.to);
      // In flight and already shown on the target: the observation tells the truth already.
      if (inFlight && ct.node !== action.from) return;
      const bytes = managed ? footprintBytes(ct, basis) : 0;
      if (here) here.managedBytes -= bytes;
      if (target) {
        target.managedBytes += bytes;
        // Its whole limit, not today's use: a container that grows after the move must not OOM it.
        target.usedBytes += ct.maxmem;
        target.cpuCores += ct.status === 'running' ? ct.cpu * ct.maxcpu : 0;
      }
      return;
    }
    case 'drop':
      // A stopped container keeps its allocation; only destroying it frees the allocated basis.
      if (here && managed && ct.node === action.node && (action.mode === 'destroy' || basis === 'used')) {
        here.managedBytes -= footprintBytes(ct, basis);
      }
      return;
    case 'scale': {
      if (!here) return;
      // Added cores count as fully used, so a later proposal cannot spend the same CPU.
      if (action.cores !== undefined && ct.status === 'running') {
        here.cpuCores += Math.max(0, action.cores - ct.maxcpu);
      }
      if (action.memoryMiB === undefined) return;
      const delta = action.memoryMiB * MiB - ct.maxmem;
      if (managed && basis === 'allocated') here.managedBytes += delta;
      if (delta > 0) here.usedBytes += delta;
      return;
    }
  }
}

/** Memory a scale adds to its node's limits (0 when it shrinks or leaves memory alone). */
export function scaleGrowthBytes(ct: ContainerState, action: Extract<Action, { kind: 'scale' }>): number {
  return action.memoryMiB === undefined ? 0 : Math.max(0, action.memoryMiB * MiB - ct.maxmem);
}

function closedProblem(node: ProjectedNode | undefined, name: string): string | null {
  if (!node) return `no such node '${name}'`;
  if (!node.online) return `node ${name} is not online`;
  if (node.drained) return `node ${name} is drained for maintenance`;
  return null;
}

function memoryProblem(node: ProjectedNode, incoming: number, share: number): string {
  const pct = ((node.usedBytes + incoming) * 100) / node.maxmem;
  return (
    `${node.name} would use ${formatPercent(pct)} of its memory with ${formatMiB(incoming)} more, ` +
    `above the ${formatPercent(share * 100)} admission limit`
  );
}
