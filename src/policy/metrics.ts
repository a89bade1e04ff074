// Node and container figures from the manager's one observation per cycle: CPU %, memory % (used,
// and allocated to containers), root disk %, and network rates from the change of the byte counters
// between two observations. Nothing here reads the API: rules and the CLI derive what they show.
// The rates are worked out here only (withNetworkRates): the manager puts them on each observation,
// where the rules (their view's snapshot) and the metrics feed (the manager's last snapshot) read them.

import type { ClusterSnapshot, ContainerState, NodeState } from '../domain';

export interface NodeMetrics {
  node: string;
  online: boolean;
  cpuPercent: number;
  /** Memory in use on the node (host, VMs and containers). */
  memUsedPercent: number;
  /** The containers' configured memory limits, in % of the node's memory. */
  memAllocatedPercent: number;
  diskPercent: number;
  /** Bytes per second over the last interval, the node's containers summed; null without one. */
  netInBps: number | null;
  netOutBps: number | null;
}

export interface ContainerMetrics {
  vmid: number;
  node: string;
  cpuPercent: number;
  memPercent: number;
  diskPercent: number;
  netInBps: number | null;
  netOutBps: number | null;
}

export interface Metrics {
  nodes: NodeMetrics[];
  containers: ContainerMetrics[];
}

export function percentOfTotal(part: number, total: number): number {
  return total > 0 ? (part * 100) / total : 0;
}

/**
 * `snapshot` with the network rates since `previous` on its containers and nodes (bytes per
 * second, rounded). A container's rate is its counters' growth over the time between the two; one
 * with no reading on the same node before (new, moved) or whose counter went down (restarted) has
 * none this time and counts from its next observation on. A node's rate is the sum of its running
 * containers' rates; without a previous observation (or no time between) nothing gets a rate.
 */
export function withNetworkRates(
  snapshot: ClusterSnapshot,
  previous: ClusterSnapshot | null,
): ClusterSnapshot {
  const seconds = previous ? (snapshot.takenAt - previous.takenAt) / 1000 : 0;
  if (!previous || seconds <= 0) return snapshot;
  const before = new Map<number, ContainerState>(previous.containers.map((ct) => [ct.vmid, ct]));
  const sums = new Map<string, { netin: number; netout: number }>();
  const containers = snapshot.containers.map((ct): ContainerState => {
    const { netinRate: _staleIn, netoutRate: _staleOut, ...rest } = ct;
    const prev = before.get(ct.vmid);
    const netinRate = prev?.node === ct.node ? growth(ct.netin, prev.netin, seconds) : null;
    const netoutRate = prev?.node === ct.node ? growth(ct.netout, prev.netout, seconds) : null;
    if (netinRate === null || netoutRate === null) return rest;
    if (ct.status === 'running') {
      const sum = sums.get(ct.node) ?? { netin: 0, netout: 0 };
      sum.netin += netinRate;
      sum.netout += netoutRate;
      sums.set(ct.node, sum);
    }
    return { ...rest, netinRate, netoutRate };
  });
  const nodes = snapshot.nodes.map((n): NodeState => ({
    ...n,
    netinRate: sums.get(n.name)?.netin ?? 0,
    netoutRate: sums.get(n.name)?.netout ?? 0,
  }));
  return { ...snapshot, nodes, containers };
}

function growth(now: number | undefined, then: number | undefined, seconds: number): number | null {
  return now === undefined || then === undefined || now < then ? null : Math.round((now - then) / seconds);
}

/** The figures of `snapshot`, with the network rates withNetworkRates put on it (null where none). */
export function metricsOf(snapshot: ClusterSnapshot): Metrics {
  const allocated = new Map<string, number>();
  const containers = snapshot.containers.map((ct): ContainerMetrics => {
    allocated.set(ct.node, (allocated.get(ct.node) ?? 0) + ct.maxmem);
    return {
      vmid: ct.vmid,
      node: ct.node,
      cpuPercent: ct.cpu * 100,
      memPercent: percentOfTotal(ct.mem, ct.maxmem),
      diskPercent: percentOfTotal(ct.disk, ct.maxdisk),
      netInBps: ct.netinRate ?? null,
      netOutBps: ct.netoutRate ?? null,
    };
  });
  const nodes = snapshot.nodes.map((n: NodeState): NodeMetrics => ({
    node: n.name,
    online: n.status === 'online',
    cpuPercent: n.cpu * 100,
    memUsedPercent: percentOfTotal(n.mem, n.maxmem),
    memAllocatedPercent: percentOfTotal(allocated.get(n.name) ?? 0, n.maxmem),
    diskPercent: percentOfTotal(n.disk, n.maxdisk),
    netInBps: n.netinRate ?? null,
    netOutBps: n.netoutRate ?? null,
  }));
  return { nodes, containers };
}

/** Coefficient of variation (population standard deviation over the mean); 0 for no or zero values. */
export function coefficientOfVariation(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  let sumSq = 0;
  for (const v of values) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / values.length;
  if (mean <= 0) return 0;
  const variance = Math.max(0, sumSq / values.length - mean * mean);
  return Math.sqrt(variance) / mean;
}
