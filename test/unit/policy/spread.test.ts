// The spread policy, table-tested against an oracle that tries every placement: pools of 1..7
// members over 1..4 zones of 1..3 nodes, with full nodes and unmanaged members; plus groups by
// pool and tag, excluded pools, and the veto a strict rule plugs in.
import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../../src/domain';
import { spreadGroupsOf } from '../../../src/policy';
import {
  compare,
  countsAfter,
  layoutNodes,
  member,
  oracle,
  plan,
  scoreOf,
  snapshotOf,
  spreadNode,
  type Layout,
} from './spread-support';

/** A small deterministic PRNG, so each table row has its own fixed "random" placement. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Variant = 'all on one node' | 'scattered' | 'full nodes' | 'unmanaged members';
const variants: Variant[] = ['all on one node', 'scattered', 'full nodes', 'unmanaged members'];

interface Row {
  members: number;
  zones: number;
  nodesPerZone: number;
  variant: Variant;
}

const rows: Row[] = [];
for (let members = 1; members <= 7; members++)
  for (let zones = 1; zones <= 4; zones++)
    for (let nodesPerZone = 1; nodesPerZone <= 3; nodesPerZone++)
      for (const variant of variants) rows.push({ members, zones, nodesPerZone, variant });

function build(row: Row): { containers: ContainerState[]; layout: Layout } {
  const rnd = lcg(
    row.members * 1000 + row.zones * 100 + row.nodesPerZone * 10 + variants.indexOf(row.variant),
  );
  const layout: Layout = { nodesPerZone: Array.from({ length: row.zones }, () => row.nodesPerZone) };
  const total = row.zones * row.nodesPerZone;
  const nodeName = (i: number) => `z${Math.floor(i / row.nodesPerZone)}n${i % row.nodesPerZone}`;
  const containers: ContainerState[] = [];
  for (let i = 0; i < row.members; i++) {
    const at = row.variant === 'all on one node' ? 0 : Math.floor(rnd() * Math.min(total, 2));
    const managed = row.variant !== 'unmanaged members' || i % 3 !== 1;
    containers.push(member(1000 + i, nodeName(at), 'dns', managed));
  }
  if (row.variant === 'full nodes') {
    // Every other node past the first two is full, and one more can take a single member.
    layout.room = {};
    for (let i = 2; i < total; i++) layout.room[i] = i % 2 === 0 ? 0 : 1;
  }
  return { containers, layout };
}

describe('spread policy table', () => {
  it.each(rows)(
    '$members member(s) over $zones zone(s) of $nodesPerZone node(s), $variant: the plan reaches the best spread in the fewest moves',
    (row) => {
      const { containers, layout } = build(row);
      const { nodes, zones } = layoutNodes(layout);
      const snapshot = snapshotOf(nodes, containers);
      const [report] = plan(snapshot, zones);
      expect(report).toBeDefined();
      if (!report) return;

      const names = nodes.map((n) => n.name);
      const movable = new Map<string, number>();
      const fixed = new Map<string, number>();
      for (const ct of containers) {
        const into = ct.vmid < 2000 ? movable : fixed;
        into.set(ct.node, (into.get(ct.node) ?? 0) + 1);
      }
      const room = new Map(names.map((n, i) => [n, layout.room?.[i] ?? 8]));
      const best = oracle(names, movable, fixed, room, zones);

      const after = scoreOf(countsAfter(containers, 'dns', report.moves), zones);
      expect(after).toEqual(best.score);
      expect(report.moves).toHaveLength(best.moves);
      expect(report.wellSpread).toBe(best.moves === 0);
      // Only managed members move, each once, and never onto the node they are on.
      const moved = report.moves.map((m) => m.vmid);
      expect(new Set(moved).size).toBe(moved.length);
      for (const m of report.moves) {
        expect(m.vmid).toBeLessThan(2000);
        expect(m.to).not.toBe(m.from);
      }
      // Unconstrained, the best spread is max-skew 1 over zones and over the nodes of a zone.
      if (row.variant === 'all on one node' || row.variant === 'scattered') {
        const counts = countsAfter(containers, 'dns', report.moves);
        const perZone = Object.values(zones).map((ns) => ns.reduce((a, n) => a + (counts.get(n) ?? 0), 0));
        expect(Math.max(...perZone) - Math.min(...perZone)).toBeLessThanOrEqual(1);
        for (const ns of Object.values(zones)) {
          const c = ns.map((n) => counts.get(n) ?? 0);
          expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
        }
      }
    },
  );
});

describe('spread policy', () => {
  it('reports a pool over fewer zones than it could use, with its counts and skews', () => {
    const { nodes, zones } = layoutNodes({ nodesPerZone: [2, 2, 2] });
    const cts = [member(1001, 'z0n0', 'dns'), member(1002, 'z0n1', 'dns'), member(1003, 'z1n0', 'dns')];
    const [report] = plan(snapshotOf(nodes, cts), zones);
    expect(report).toMatchObject({
      kind: 'pool',
      name: 'dns',
      members: 3,
      zones: { 'zone-0': 2, 'zone-1': 1 },
      nodes: { z0n0: 1, z0n1: 1, z1n0: 1 },
      zonesUsed: 2,
      nodesUsed: 3,
      zoneSkew: 2,
      nodeSkew: 1,
      wellSpread: false,
    });
    expect(report?.moves).toHaveLength(1);
    expect(report?.moves[0]).toMatchObject({ fromZone: 'zone-0', toZone: 'zone-2' });
  });

  it('counts a node in no zone as a zone of its own', () => {
    const nodes = [spreadNode('a1'), spreadNode('a2'), spreadNode('solo')];
    const cts = [member(1001, 'a1', 'dns'), member(1002, 'a2', 'dns')];
    const [report] = plan(snapshotOf(nodes, cts), { a: ['a1', 'a2'] });
    expect(report?.moves).toEqual([{ vmid: 1001, from: 'a1', to: 'solo', fromZone: 'a', toZone: 'solo' }]);
  });

  it('leaves excluded pools out and makes groups of prefixed tags', () => {
    const cts = [
      member(1001, 'n1', 'dns'),
      member(1002, 'n1', 'mail', true, ['spread-relay']),
      member(1003, 'n1', 'web', true, ['spread-relay', 'other']),
      { ...member(1004, 'n1', 'dns'), template: true },
    ];
    const groups = spreadGroupsOf(cts, { excludePools: ['web'], tagPrefix: 'spread-' });
    expect(groups).toEqual([
      { kind: 'pool', name: 'dns', members: [1001] },
      { kind: 'pool', name: 'mail', members: [1002] },
      { kind: 'tag', name: 'relay', members: [1002, 1003] },
    ]);
    expect(spreadGroupsOf(cts, { excludePools: [], tagPrefix: '' }).map((g) => g.name)).toEqual([
      'dns',
      'mail',
      'web',
    ]);
  });

  it('plans nothing for an excluded pool however badly it is spread', () => {
    const { nodes, zones } = layoutNodes({ nodesPerZone: [1, 1] });
    const cts = [member(1001, 'z0n0', 'web'), member(1002, 'z0n0', 'web')];
    expect(plan(snapshotOf(nodes, cts), zones, { excludePools: ['web'] })).toEqual([]);
    expect(plan(snapshotOf(nodes, cts), zones)[0]?.moves).toHaveLength(1);
  });

  it('never worsens another group that shares the moved container', () => {
    // 1001 is in pool dns and tag group relay. Moving it to zone 1 would spread dns, but take
    // relay (1001 on z0n0, 1003 on z1n0) down to one zone; 1002 can go instead.
    const { nodes, zones } = layoutNodes({ nodesPerZone: [1, 1] });
    const cts = [
      member(1001, 'z0n0', 'dns', true, ['spread-relay']),
      member(1002, 'z0n0', 'dns'),
      member(1003, 'z1n0', 'mail', true, ['spread-relay']),
    ];
    const reports = plan(snapshotOf(nodes, cts), zones);
    const dns = reports.find((r) => r.name === 'dns');
    expect(dns?.moves.map((m) => m.vmid)).toEqual([1002]);
  });

  it('asks the extra veto about every move it makes', () => {
    const { nodes, zones } = layoutNodes({ nodesPerZone: [1, 1, 1] });
    const cts = [member(1001, 'z0n0', 'dns'), member(1002, 'z0n0', 'dns')];
    const asked: string[] = [];
    const [report] = plan(snapshotOf(nodes, cts), zones, {
      allowed: (ct, to) => {
        asked.push(`${ct.vmid}->${to}`);
        return to !== 'z1n0';
      },
    });
    expect(report?.moves.map((m) => m.to)).toEqual(['z2n0']);
    expect(asked).toContain('1001->z1n0');
  });

  it('moves nothing into a drained or offline node', () => {
    const { nodes, zones } = layoutNodes({ nodesPerZone: [1, 1] });
    const off = nodes.map((n) => (n.name === 'z1n0' ? { ...n, status: 'offline' as const } : n));
    const cts = [member(1001, 'z0n0', 'dns'), member(1002, 'z0n0', 'dns')];
    expect(plan(snapshotOf(off, cts), zones)[0]?.moves).toEqual([]);
  });

  it('keeps the score order: zones first, then nodes, then evenness', () => {
    expect(compare([2, 1, 0, 0], [1, 5, 0, 0])).toBeGreaterThan(0);
    expect(compare([2, 3, -8, 0], [2, 2, -4, 0])).toBeGreaterThan(0);
  });
});
