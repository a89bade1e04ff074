// The compact form of a ClusterSnapshot that travels through workflow history: one row of numbers
// per container and each pool, tag list and lock written once. A full snapshot costs about 280 B per
// container in history; a row costs about 70 (60 without the network counters: fleet-large's 2,000
// containers take 142 KB, 117 KB without), so the manager can observe 10,000 containers in one
// payload well under Temporal's limits.

import type { ClusterSnapshot, ContainerState, NodeState } from './cluster';

/** Column order of `Observation.containers` rows. */
const Col = {
  vmid: 0,
  node: 1,
  flags: 2,
  cpu: 3,
  maxcpu: 4,
  mem: 5,
  maxmem: 6,
  disk: 7,
  maxdisk: 8,
  uptime: 9,
  pool: 10,
  tags: 11,
  lock: 12,
  netin: 13,
  netout: 14,
} as const;

const RUNNING = 1;
const TEMPLATE = 2;
/** CPU shares are kept to 1/10000: finer digits are noise and cost bytes. */
const CPU_SCALE = 10_000;
const KiB = 1024;
const MiB = 1024 * 1024;

export interface Observation {
  format: 'compact-1';
  takenAt: number;
  nodes: NodeState[];
  /** Pools, tag lists (joined with ';') and locks, each stored once and referred to by index. */
  strings: string[];
  /**
   * One row per container: vmid, node index, flags (1 running, 2 template), cpu × 10000, maxcpu,
   * mem KiB, maxmem MiB (PVE configures it in MiB), disk MiB, maxdisk MiB, uptime s, then string
   * indexes (-1 for none) of pool, tags and lock, then, when the API gave them, the network
   * counters netin and netout in KiB (the rates are their change between observations; a KiB per
   * 10 s cycle is 100 B/s). Names are left out: decoded as `CT<vmid>`.
   */
  containers: number[][];
}

export function encodeObservation(snapshot: ClusterSnapshot): Observation {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string | undefined): number => {
    if (s === undefined || s === '') return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const nodeIndex = new Map(snapshot.nodes.map((n, i) => [n.name, i]));
  const extraNodes: NodeState[] = [];
  const containers = snapshot.containers.map((ct) => {
    let node = nodeIndex.get(ct.node);
    if (node === undefined) {
      // A guest on a node /cluster/resources did not list: keep it, on a node of unknown state.
      node = snapshot.nodes.length + extraNodes.length;
      nodeIndex.set(ct.node, node);
      extraNodes.push(unknownNode(ct.node));
    }
    const row = [
      ct.vmid,
      node,
      (ct.status === 'running' ? RUNNING : 0) | (ct.template ? TEMPLATE : 0),
      Math.round(ct.cpu * CPU_SCALE),
      ct.maxcpu,
      Math.round(ct.mem / KiB),
      Math.round(ct.maxmem / MiB),
      Math.round(ct.disk / MiB),
      Math.round(ct.maxdisk / MiB),
      ct.uptime,
      ref(ct.pool),
      ref(ct.tags.length > 0 ? ct.tags.join(';') : undefined),
      ref(ct.lock),
    ];
    if (ct.netin !== undefined && ct.netout !== undefined) {
      row.push(Math.round(ct.netin / KiB), Math.round(ct.netout / KiB));
    }
    return row;
  });
  return {
    format: 'compact-1',
    takenAt: snapshot.takenAt,
    nodes: [...snapshot.nodes, ...extraNodes],
    strings,
    containers,
  };
}

export function decodeObservation(obs: Observation): ClusterSnapshot {
  const str = (i: number | undefined): string | undefined =>
    i === undefined || i < 0 ? undefined : obs.strings[i];
  const containers = obs.containers.map((row): ContainerState => {
    const vmid = row[Col.vmid] as number;
    const flags = row[Col.flags] ?? 0;
    const tags = str(row[Col.tags]);
    const ct: ContainerState = {
      vmid,
      // Names are for people; the rules never read them, and one per container is most of the bytes.
      name: `CT${vmid}`,
      node: obs.nodes[row[Col.node] as number]?.name ?? '',
      status: flags & RUNNING ? 'running' : 'stopped',
      cpu: (row[Col.cpu] ?? 0) / CPU_SCALE,
      maxcpu: row[Col.maxcpu] ?? 0,
      mem: (row[Col.mem] ?? 0) * KiB,
      maxmem: (row[Col.maxmem] ?? 0) * MiB,
      disk: (row[Col.disk] ?? 0) * MiB,
      maxdisk: (row[Col.maxdisk] ?? 0) * MiB,
      uptime: row[Col.uptime] ?? 0,
      tags: tags === undefined ? [] : tags.split(';'),
      template: (flags & TEMPLATE) !== 0,
    };
    const pool = str(row[Col.pool]);
    const lock = str(row[Col.lock]);
    if (pool !== undefined) ct.pool = pool;
    if (lock !== undefined) ct.lock = lock;
    // Rows written before the counters were kept end at the lock.
    if (row.length > Col.netout) {
      ct.netin = (row[Col.netin] ?? 0) * KiB;
      ct.netout = (row[Col.netout] ?? 0) * KiB;
    }
    return ct;
  });
  return { takenAt: obs.takenAt, nodes: obs.nodes.map((n) => ({ ...n })), containers };
}

/**
 * What observeCluster returned, in either form: histories recorded before the compact form hold
 * full snapshots, and replaying them must read them as they are.
 */
export function snapshotOf(observed: Observation | ClusterSnapshot): ClusterSnapshot {
  return 'format' in observed ? decodeObservation(observed) : observed;
}

function unknownNode(name: string): NodeState {
  return { name, status: 'unknown', cpu: 0, maxcpu: 0, mem: 0, maxmem: 0, disk: 0, maxdisk: 0 };
}
