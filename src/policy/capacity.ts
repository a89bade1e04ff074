// How much of each node's memory the managed containers take, against a limit in percent of the
// node's total memory. "Passes" a limit means strictly above it; "under" means strictly below.

import { isManaged, type ClusterSnapshot, type ContainerState, type ManagedScope } from '../domain';

/**
 * `allocated` counts each container's configured limit (maxmem), as the lab did to reach its
 * thresholds quickly; `used` counts what the containers really use (mem).
 */
export type CapacityBasis = 'allocated' | 'used';

export interface NodeLoad {
  node: string;
  /** Bytes counted for the managed containers on this node, on the chosen basis. */
  managedBytes: number;
  /** The node's total memory in bytes. */
  maxmem: number;
  /** Bytes the node uses for everything, managed or not: the basis of admission checks. */
  usedBytes: number;
}

export function footprintBytes(ct: Pick<ContainerState, 'mem' | 'maxmem'>, basis: CapacityBasis): number {
  return basis === 'allocated' ? ct.maxmem : ct.mem;
}

export function percentOf(bytes: number, maxmem: number): number {
  return maxmem > 0 ? (bytes * 100) / maxmem : Number.POSITIVE_INFINITY;
}

export function loadPercent(load: Pick<NodeLoad, 'managedBytes' | 'maxmem'>): number {
  return percentOf(load.managedBytes, load.maxmem);
}

/** Compared as bytes * 100 against percent * maxmem, so no division rounds a boundary case. */
export function passes(bytes: number, maxmem: number, limitPercent: number): boolean {
  return bytes * 100 > limitPercent * maxmem;
}

export function isUnder(bytes: number, maxmem: number, limitPercent: number): boolean {
  return bytes * 100 < limitPercent * maxmem;
}

/** Plain code-unit order: locale-aware comparison could differ between workers and break replay. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One entry per online node with known memory, sorted by name so results never depend on the
 * order in which the API lists things. Offline nodes can neither give nor take containers.
 */
export function nodeLoads(snapshot: ClusterSnapshot, scope: ManagedScope, basis: CapacityBasis): NodeLoad[] {
  const loads = snapshot.nodes
    .filter((n) => n.status === 'online' && n.maxmem > 0)
    .map((n) => ({ node: n.name, managedBytes: 0, maxmem: n.maxmem, usedBytes: n.mem }))
    .sort((a, b) => compareNames(a.node, b.node));
  // The first load of each name, as a search by name would find it.
  const byName = new Map<string, NodeLoad>();
  for (const load of loads) if (!byName.has(load.node)) byName.set(load.node, load);
  for (const ct of snapshot.containers) {
    if (!isManaged(ct, scope)) continue;
    const load = byName.get(ct.node);
    if (load) load.managedBytes += footprintBytes(ct, basis);
  }
  return loads;
}

export function nodesUnder(loads: readonly NodeLoad[], limitPercent: number): NodeLoad[] {
  return loads.filter((l) => isUnder(l.managedBytes, l.maxmem, limitPercent));
}

export function nodesPassing(loads: readonly NodeLoad[], limitPercent: number): NodeLoad[] {
  return loads.filter((l) => passes(l.managedBytes, l.maxmem, limitPercent));
}
