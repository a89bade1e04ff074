// Node and container figures from the manager's one observation per cycle: CPU %, memory % (used,
// and allocated to containers), root disk %, and network rates from the change of the byte counters
// between two observations. Nothing here reads the API: rules and the CLI derive what they show.

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
 * The figures of `snapshot`; with the previous observation, the network rates too. A counter that
 * went down (a restart, a move to another node) gives no rate for that interval rather than a
 * negative one.
 */
export function metricsOf(snapshot: ClusterSnapshot, previous?: ClusterSnapshot): Metrics {
  const seconds = previous ? (snapshot.takenAt - previous.takenAt) / 1000 : 0;
  const before = new Map<number, ContainerState>();
  if (previous && seconds > 0) for (const ct of previous.containers) before.set(ct.vmid, ct);
  const rate = (now: number | undefined, then: number | undefined): number | null =>
    now === undefined || then === undefined || now < then || seconds <= 0 ? null : (now - then) / seconds;

  const containers: ContainerMetrics[] = [];
  const allocated = new Map<string, number>();
  const netIn = new Map<string, number | null>();
  const netOut = new Map<string, number | null>();
  const add = (m: Map<string, number | null>, node: string, v: number | null): void => {
    // One unknown rate makes the node's sum unknown, but only for running containers.
    const cur = m.has(node) ? (m.get(node) ?? null) : 0;
    m.set(node, cur === null || v === null ? null : cur + v);
  };
  for (const ct of snapshot.containers) {
    const prev = before.get(ct.vmid);
    const samePlace = prev !== undefined && prev.node === ct.node;
    const inBps = samePlace ? rate(ct.netin, prev.netin) : null;
    const outBps = samePlace ? rate(ct.netout, prev.netout) : null;
    containers.push({
      vmid: ct.vmid,
      node: ct.node,
      cpuPercent: ct.cpu * 100,
      memPercent: percentOfTotal(ct.mem, ct.maxmem),
      diskPercent: percentOfTotal(ct.disk, ct.maxdisk),
      netInBps: inBps,
      netOutBps: outBps,
    });
    allocated.set(ct.node, (allocated.get(ct.node) ?? 0) + ct.maxmem);
    if (ct.status === 'running') {
      add(netIn, ct.node, inBps);
      add(netOut, ct.node, outBps);
    }
  }
  const nodes = snapshot.nodes.map((n: NodeState): NodeMetrics => {
    const noRates = !previous || seconds <= 0;
    return {
      node: n.name,
      online: n.status === 'online',
      cpuPercent: n.cpu * 100,
      memUsedPercent: percentOfTotal(n.mem, n.maxmem),
      memAllocatedPercent: percentOfTotal(allocated.get(n.name) ?? 0, n.maxmem),
      diskPercent: percentOfTotal(n.disk, n.maxdisk),
      netInBps: noRates ? null : (netIn.get(n.name) ?? 0),
      netOutBps: noRates ? null : (netOut.get(n.name) ?? 0),
    };
  });
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
