// Spreading a group's members (a pool, or containers sharing a `spread-` tag) across nodes and
// failure zones. A group is well spread when no feasible migration of its movable members raises
// the zones it uses, then the nodes it uses, nor evens its zone counts (max-skew), then its node
// counts; the plan is the fewest such migrations, each admitted against one projected cluster and
// never worsening another group that shares the moved container.

import { zoneOf, type Action, type ClusterSnapshot, type ContainerState, type ZoneIndex } from '../domain';
import { compareNames } from './capacity';
import { admissionProblem, applyAction, type ProjectedCluster } from './projected-cluster';

export type SpreadGroupKind = 'pool' | 'tag';

export interface SpreadGroup {
  kind: SpreadGroupKind;
  /** The pool id, or the tag without its prefix. */
  name: string;
  /** Member vmids, sorted; managed or not, all count. */
  members: number[];
}

export interface SpreadGroupSettings {
  /** Pools that are not spread groups. */
  excludePools: readonly string[];
  /** A tag `<prefix><name>` puts its container in group `name`; empty: tags define no groups. */
  tagPrefix: string;
}

/** Every pool (minus the excluded ones) and every prefixed tag is a group; templates are not members. */
export function spreadGroupsOf(
  containers: readonly ContainerState[],
  settings: SpreadGroupSettings,
): SpreadGroup[] {
  const excluded = new Set(settings.excludePools);
  const groups = new Map<string, SpreadGroup>();
  const add = (kind: SpreadGroupKind, name: string, vmid: number): void => {
    const key = `${kind}:${name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { kind, name, members: [] }));
    if (!g.members.includes(vmid)) g.members.push(vmid);
  };
  for (const ct of containers) {
    if (ct.template) continue;
    if (ct.pool !== undefined && ct.pool !== '' && !excluded.has(ct.pool)) add('pool', ct.pool, ct.vmid);
    if (settings.tagPrefix === '') continue;
    for (const tag of ct.tags) {
      if (tag.startsWith(settings.tagPrefix) && tag.length > settings.tagPrefix.length) {
        add('tag', tag.slice(settings.tagPrefix.length), ct.vmid);
      }
    }
  }
  return [...groups.values()]
    .map((g) => ({ ...g, members: [...g.members].sort((a, b) => a - b) }))
    .sort((a, b) => compareNames(a.kind, b.kind) || compareNames(a.name, b.name));
}

/** `Pool 'dns'` or `Group 'web' (tag spread-web)`: how reports and reasons name a group. */
export function describeGroup(group: Pick<SpreadGroup, 'kind' | 'name'>, tagPrefix = 'spread-'): string {
  return group.kind === 'pool'
    ? `Pool '${group.name}'`
    : `Group '${group.name}' (tag ${tagPrefix}${group.name})`;
}

export interface SpreadMove {
  vmid: number;
  from: string;
  to: string;
  fromZone: string;
  toZone: string;
}

export interface SpreadReport {
  kind: SpreadGroupKind;
  name: string;
  members: number;
  /** Members per zone and per node before the plan; a zone or node without members is left out. */
  zones: Record<string, number>;
  nodes: Record<string, number>;
  zonesUsed: number;
  nodesUsed: number;
  /** Largest gap between the most and the least used zone (among zones with an open node). */
  zoneSkew: number;
  /** Largest gap between the most and the least used open node of one zone. */
  nodeSkew: number;
  /** The fewest migrations that make the group well spread; empty when it is. */
  moves: SpreadMove[];
  wellSpread: boolean;
}

export interface SpreadInput {
  snapshot: ClusterSnapshot;
  /** Capacity of every node, with the operations in flight applied; the plan reserves its moves in it. */
  cluster: ProjectedCluster;
  zones: ZoneIndex;
  groups: readonly SpreadGroup[];
  /** Migrations in flight: their containers count on their targets already. */
  inFlight?: readonly Action[];
  /** Whether a member may be moved at all (managed, idle, unlocked, out of cooldown). */
  movable(ct: ContainerState): boolean;
  /** An extra veto on one move (strict affinity rules plug in here); allowed when absent. */
  allowed?(ct: ContainerState, target: string): boolean;
}

/** The score a group's placement is judged by, compared in this order; higher is better. */
interface Score {
  zonesUsed: number;
  nodesUsed: number;
  /** Minus the sum of squared members per zone: higher is more even (max-skew falls with it). */
  zoneEvenness: number;
  nodeEvenness: number;
}

function compareScores(a: Score, b: Score): number {
  return (
    a.zonesUsed - b.zonesUsed ||
    a.nodesUsed - b.nodesUsed ||
    a.zoneEvenness - b.zoneEvenness ||
    a.nodeEvenness - b.nodeEvenness
  );
}

/** Members per node and per zone of one group, kept up to date as the plan moves members. */
class Tally {
  readonly perNode = new Map<string, number>();
  readonly perZone = new Map<string, number>();
  score: Score = { zonesUsed: 0, nodesUsed: 0, zoneEvenness: 0, nodeEvenness: 0 };

  add(node: string, zone: string, delta: 1 | -1): void {
    const n = this.perNode.get(node) ?? 0;
    const z = this.perZone.get(zone) ?? 0;
    this.score = after(n, z, delta, this.score);
    bump(this.perNode, node, delta);
    bump(this.perZone, zone, delta);
  }

  /** The score with one member moved, computed from the counts without changing them. */
  moved(from: string, fromZone: string, to: string, toZone: string): Score {
    if (from === to) return this.score;
    const left = after(this.perNode.get(from) ?? 0, this.perZone.get(fromZone) ?? 0, -1, this.score);
    // Within one zone the zone's count is back where it was once the member arrives.
    const toZoneCount = (this.perZone.get(toZone) ?? 0) - (toZone === fromZone ? 1 : 0);
    return after(this.perNode.get(to) ?? 0, toZoneCount, 1, left);
  }
}

/** The score after one member leaves (-1) or joins (+1) a node holding n and a zone holding z. */
function after(n: number, z: number, delta: 1 | -1, s: Score): Score {
  const n2 = n + delta;
  const z2 = z + delta;
  return {
    nodesUsed: s.nodesUsed + (n === 0 && n2 > 0 ? 1 : 0) - (n > 0 && n2 === 0 ? 1 : 0),
    zonesUsed: s.zonesUsed + (z === 0 && z2 > 0 ? 1 : 0) - (z > 0 && z2 === 0 ? 1 : 0),
    nodeEvenness: s.nodeEvenness - (n2 * n2 - n * n),
    zoneEvenness: s.zoneEvenness - (z2 * z2 - z * z),
  };
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const v = (map.get(key) ?? 0) + delta;
  if (v === 0) map.delete(key);
  else map.set(key, v);
}

/**
 * Plans every group in order, on shared positions and one projection: a later group sees the
 * earlier groups' moves and the room they took. Pure apart from reserving the moves in `cluster`.
 */
export function planSpread(input: SpreadInput): SpreadReport[] {
  const { snapshot, cluster, zones } = input;
  const byVmid = new Map(snapshot.containers.map((ct) => [ct.vmid, ct]));
  const position = new Map(snapshot.containers.map((ct) => [ct.vmid, ct.node]));
  for (const a of input.inFlight ?? []) if (a.kind === 'migrate') position.set(a.vmid, a.to);
  const nodeOf = (vmid: number): string => position.get(vmid) ?? '';

  // Each container's groups, so a move can be checked against every group it changes.
  const tallies = input.groups.map(() => new Tally());
  const groupsOf = new Map<number, number[]>();
  input.groups.forEach((g, gi) => {
    for (const vmid of g.members) {
      if (!byVmid.has(vmid)) continue;
      const node = nodeOf(vmid);
      (tallies[gi] as Tally).add(node, zoneOf(zones, node), 1);
      groupsOf.set(vmid, [...(groupsOf.get(vmid) ?? []), gi]);
    }
  });
  const targets = [...cluster.nodes.values()]
    .filter((n) => n.online && !n.drained)
    .map((n) => n.name)
    .sort(compareNames);
  const moved = new Set<number>();

  return input.groups.map((group, gi) => {
    const tally = tallies[gi] as Tally;
    const before = reportCounts(tally, zones, targets);
    const moves: SpreadMove[] = [];
    for (;;) {
      const best = bestMove(group, gi, tally);
      if (!best) break;
      const { ct, to } = best;
      const from = nodeOf(ct.vmid);
      const move: SpreadMove = {
        vmid: ct.vmid,
        from,
        to,
        fromZone: zoneOf(zones, from),
        toZone: zoneOf(zones, to),
      };
      for (const other of groupsOf.get(ct.vmid) ?? []) {
        const t = tallies[other] as Tally;
        t.add(from, move.fromZone, -1);
        t.add(to, move.toZone, 1);
      }
      position.set(ct.vmid, to);
      moved.add(ct.vmid);
      applyAction(cluster, migrateAction(move, ''));
      moves.push(move);
    }
    return {
      kind: group.kind,
      name: group.name,
      members: group.members.filter((v) => byVmid.has(v)).length,
      ...before,
      moves,
      wellSpread: moves.length === 0,
    };
  });

  /**
   * The single move that raises this group's score most without worsening any other group; among
   * equals, the one that helps the other groups of the moved container most (it moves only once),
   * then the target with the most free memory, then the first by name. The score depends only on
   * the source and target nodes, so pairs of nodes are ranked first and members tried after.
   */
  function bestMove(group: SpreadGroup, gi: number, tally: Tally): { ct: ContainerState; to: string } | null {
    const bySource = new Map<string, ContainerState[]>();
    for (const vmid of group.members) {
      const ct = byVmid.get(vmid);
      if (!ct || moved.has(vmid) || !input.movable(ct)) continue;
      // Only containers whose observed node is their position: an in-flight one is not movable anyway.
      if (nodeOf(vmid) !== ct.node) continue;
      const list = bySource.get(ct.node);
      if (list) list.push(ct);
      else bySource.set(ct.node, [ct]);
    }
    const pairs: Array<{ from: string; to: string; score: Score }> = [];
    for (const from of bySource.keys()) {
      const fromZone = zoneOf(zones, from);
      for (const to of targets) {
        if (to === from) continue;
        const score = tally.moved(from, fromZone, to, zoneOf(zones, to));
        if (compareScores(score, tally.score) > 0) pairs.push({ from, to, score });
      }
    }
    // Level by level, best first: the first score level with a feasible move decides. (No sort:
    // usually the top level has one, and finding a maximum is one pass.)
    let rest = pairs;
    while (rest.length > 0) {
      let level = (rest[0] as (typeof rest)[number]).score;
      for (const p of rest) if (compareScores(p.score, level) > 0) level = p.score;
      let best: { ct: ContainerState; to: string; gain: Score; room: number } | null = null;
      const lower: typeof rest = [];
      for (const pair of rest) {
        if (compareScores(pair.score, level) < 0) {
          lower.push(pair);
          continue;
        }
        const { from, to } = pair;
        const room = roomOf(to);
        for (const ct of bySource.get(from) ?? []) {
          const gain = othersGain(ct.vmid, gi, from, zoneOf(zones, from), to, zoneOf(zones, to));
          if (gain === null) continue;
          if (best) {
            const g = compareScores(gain, best.gain);
            const worseRoom = room < best.room || (room === best.room && compareNames(to, best.to) >= 0);
            if (g < 0 || (g === 0 && worseRoom)) continue;
          }
          if (input.allowed && !input.allowed(ct, to)) continue;
          if (admissionProblem(cluster, migrateAction({ vmid: ct.vmid, from, to }, '')) !== null) continue;
          best = { ct, to, gain, room };
        }
      }
      if (best) return best;
      rest = lower;
    }
    return null;
  }

  /** What the move adds to the other groups of the container, summed; null when it worsens one. */
  function othersGain(
    vmid: number,
    gi: number,
    from: string,
    fromZone: string,
    to: string,
    toZone: string,
  ): Score | null {
    const gain: Score = { zonesUsed: 0, nodesUsed: 0, zoneEvenness: 0, nodeEvenness: 0 };
    for (const other of groupsOf.get(vmid) ?? []) {
      if (other === gi) continue;
      const t = tallies[other] as Tally;
      const after = t.moved(from, fromZone, to, toZone);
      if (compareScores(after, t.score) < 0) return null;
      gain.zonesUsed += after.zonesUsed - t.score.zonesUsed;
      gain.nodesUsed += after.nodesUsed - t.score.nodesUsed;
      gain.zoneEvenness += after.zoneEvenness - t.score.zoneEvenness;
      gain.nodeEvenness += after.nodeEvenness - t.score.nodeEvenness;
    }
    return gain;
  }

  function roomOf(node: string): number {
    const n = cluster.nodes.get(node);
    return n ? cluster.settings.admissionShare * n.maxmem - n.usedBytes : 0;
  }
}

function reportCounts(
  tally: Tally,
  zones: ZoneIndex,
  openNodes: readonly string[],
): Pick<SpreadReport, 'zones' | 'nodes' | 'zonesUsed' | 'nodesUsed' | 'zoneSkew' | 'nodeSkew'> {
  const sorted = (m: ReadonlyMap<string, number>) =>
    Object.fromEntries([...m.entries()].sort((a, b) => compareNames(a[0], b[0])));
  const nodesOfZone = new Map<string, string[]>();
  for (const node of openNodes) {
    const z = zoneOf(zones, node);
    nodesOfZone.set(z, [...(nodesOfZone.get(z) ?? []), node]);
  }
  const gap = (values: number[]) => (values.length === 0 ? 0 : Math.max(...values) - Math.min(...values));
  const zoneSkew = gap([...nodesOfZone.keys()].map((z) => tally.perZone.get(z) ?? 0));
  const nodeSkew = Math.max(
    0,
    ...[...nodesOfZone.values()].map((nodes) => gap(nodes.map((n) => tally.perNode.get(n) ?? 0))),
  );
  return {
    zones: sorted(tally.perZone),
    nodes: sorted(tally.perNode),
    zonesUsed: tally.perZone.size,
    nodesUsed: tally.perNode.size,
    zoneSkew,
    nodeSkew,
  };
}

/** The migrate action of a planned move, with the reason a reader sees in the UI and CLI. */
export function migrateAction(
  move: Pick<SpreadMove, 'vmid' | 'from' | 'to'>,
  reason: string,
): Extract<Action, { kind: 'migrate' }> {
  return { kind: 'migrate', vmid: move.vmid, from: move.from, to: move.to, reason };
}

/** Why the move helps, in words: `spreads Pool 'dns' to zone zone-c (zones 2 → 3)`. */
export function spreadReason(report: SpreadReport, move: SpreadMove, tagPrefix: string): string {
  const where =
    move.fromZone === move.toZone
      ? `from ${move.from} to ${move.to} within zone ${move.toZone}`
      : `from zone ${move.fromZone} (${move.from}) to zone ${move.toZone} (${move.to})`;
  return (
    `${describeGroup(report, tagPrefix)} uses ${report.zonesUsed} zone(s) and ${report.nodesUsed} node(s) ` +
    `for ${report.members} member(s) (zone skew ${report.zoneSkew}, node skew ${report.nodeSkew}); ` +
    `moving CT ${move.vmid} ${where} spreads it (${report.moves.length} move(s) planned)`
  );
}
