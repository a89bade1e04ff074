// Builders and an independent oracle for the spread policy's tests: clusters of zones of nodes, one
// pool placed on them, and the best placement found by trying every count vector (small sizes only).

import type { ClusterSnapshot, ContainerState, NodeState, Zones } from '../../../src/domain';
import { zoneIndex, zoneOf } from '../../../src/domain';
import {
  planSpread,
  projectCluster,
  spreadGroupsOf,
  type CoreSettings,
  type SpreadReport,
} from '../../../src/policy';
import { GiB, MiB, NOW } from './fixtures';

export const settings: CoreSettings = {
  scope: { vmidMin: 1000, vmidMax: 1999 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 4,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

/** 16 GiB nodes; each member takes 1 GiB, so `room` is how many members a node can still take. */
export function spreadNode(name: string, room = 8): NodeState {
  const maxmem = 16 * GiB;
  // used + room × 1 GiB fits under 90 %, one more does not.
  const mem = Math.floor(0.9 * maxmem) - room * GiB - 512 * MiB;
  return { name, status: 'online', cpu: 0.01, maxcpu: 64, mem, maxmem, disk: 0, maxdisk: 100 * GiB };
}

export function member(
  vmid: number,
  node: string,
  pool: string,
  managed = true,
  tags: string[] = [],
): ContainerState {
  return {
    vmid: managed ? vmid : vmid + 5000,
    name: `ct-${vmid}`,
    node,
    status: 'running',
    cpu: 0.01,
    maxcpu: 1,
    mem: 512 * MiB,
    maxmem: 1024 * MiB,
    disk: 0,
    maxdisk: 4 * GiB,
    uptime: 10_000,
    tags,
    pool,
    template: false,
  };
}

export interface Layout {
  /** zones[z] = node count of zone z. */
  nodesPerZone: number[];
  /** Node index (across zones, in order) → room in members; default 8. */
  room?: Record<number, number>;
}

export function layoutNodes(layout: Layout): { nodes: NodeState[]; zones: Zones } {
  const nodes: NodeState[] = [];
  const zones: Zones = {};
  layout.nodesPerZone.forEach((count, z) => {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = `z${z}n${i}`;
      nodes.push(spreadNode(name, layout.room?.[nodes.length] ?? 8));
      names.push(name);
    }
    zones[`zone-${z}`] = names;
  });
  return { nodes, zones };
}

export function snapshotOf(nodes: NodeState[], containers: ContainerState[]): ClusterSnapshot {
  return { takenAt: NOW, nodes, containers: [...containers].sort((a, b) => a.vmid - b.vmid) };
}

/** Runs the policy the way the rule does: every managed container movable. */
export function plan(
  snapshot: ClusterSnapshot,
  zones: Zones,
  opts: {
    excludePools?: string[];
    tagPrefix?: string;
    allowed?: (ct: ContainerState, to: string) => boolean;
  } = {},
): SpreadReport[] {
  const s = { ...settings, zones };
  return planSpread({
    snapshot,
    cluster: projectCluster(snapshot, s, []),
    zones: zoneIndex(zones),
    groups: spreadGroupsOf(snapshot.containers, {
      excludePools: opts.excludePools ?? [],
      tagPrefix: opts.tagPrefix ?? 'spread-',
    }),
    movable: (ct) => ct.vmid >= 1000 && ct.vmid <= 1999,
    ...(opts.allowed ? { allowed: opts.allowed } : {}),
  });
}

export type Score = [number, number, number, number];

/** zones used, nodes used, then evenness (minus sums of squares) of zones and nodes. */
export function scoreOf(counts: ReadonlyMap<string, number>, zones: Zones): Score {
  const index = zoneIndex(zones);
  const perZone = new Map<string, number>();
  let nodesUsed = 0;
  let nodeSq = 0;
  for (const [node, c] of counts) {
    if (c === 0) continue;
    nodesUsed++;
    nodeSq += c * c;
    const z = zoneOf(index, node);
    perZone.set(z, (perZone.get(z) ?? 0) + c);
  }
  let zoneSq = 0;
  for (const c of perZone.values()) zoneSq += c * c;
  return [perZone.size, nodesUsed, -zoneSq, -nodeSq];
}

export function compare(a: Score, b: Score): number {
  for (let i = 0; i < 4; i++)
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) - (b[i] as number);
  return 0;
}

/**
 * The best score reachable and the fewest moves that reach it, by trying every count vector:
 * fixed (unmanaged) members stay, arrivals on a node stay within its room (a move out frees no
 * room within one plan, as in the projection).
 */
export function oracle(
  nodes: readonly string[],
  movable: ReadonlyMap<string, number>,
  fixed: ReadonlyMap<string, number>,
  room: ReadonlyMap<string, number>,
  zones: Zones,
): { score: Score; moves: number } {
  const total = [...movable.values()].reduce((a, b) => a + b, 0);
  let best: { score: Score; moves: number } | null = null;
  const counts = new Map<string, number>();
  const walk = (i: number, left: number): void => {
    const node = nodes[i] as string;
    const f = fixed.get(node) ?? 0;
    const now = movable.get(node) ?? 0;
    const maxHere = Math.min(left, now + (room.get(node) ?? 0));
    const last = i === nodes.length - 1;
    for (let k = last ? left : 0; k <= maxHere; k++) {
      counts.set(node, f + k);
      if (last) {
        const score = scoreOf(counts, zones);
        let moves = 0;
        for (const n of nodes)
          moves += Math.max(0, (movable.get(n) ?? 0) - ((counts.get(n) ?? 0) - (fixed.get(n) ?? 0)));
        const c = best === null ? 1 : compare(score, best.score);
        if (best === null || c > 0 || (c === 0 && moves < best.moves)) best = { score, moves };
      } else walk(i + 1, left - k);
    }
    counts.delete(node);
  };
  if (nodes.length > 0) walk(0, total);
  return best ?? { score: [0, 0, 0, 0], moves: 0 };
}

/** Members per node after the plan's moves. */
export function countsAfter(
  containers: readonly ContainerState[],
  pool: string,
  moves: ReadonlyArray<{ vmid: number; to: string }>,
): Map<string, number> {
  const to = new Map(moves.map((m) => [m.vmid, m.to]));
  const counts = new Map<string, number>();
  for (const ct of containers) {
    if (ct.pool !== pool) continue;
    const node = to.get(ct.vmid) ?? ct.node;
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}
