import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config';
import type { ClusterSnapshot } from '../../../../src/domain';
import {
  balanceConfigSchema,
  balanceRule,
  coefficientOfVariation,
  emptyBalanceState,
  nodeLoadsOf,
  planBalance,
  projectCluster,
  roundActionable,
  type BalanceConfig,
  type BalanceState,
  type Command,
  type CoreSettings,
  type RuleView,
} from '../../../../src/policy';
import {
  afterMoves,
  balance,
  cluster,
  emptyCore,
  GiB,
  NOW,
  round,
  settings,
  type CtSpec,
} from './balance-support';

const four = [{ name: 'pve-a' }, { name: 'pve-b' }, { name: 'pve-c' }, { name: 'pve-d' }];
/** pve-a holds most of the memory: 24 of 64 GiB against 5, 3 and 1. */
const skewed: CtSpec[] = [
  { vmid: 1001, node: 'pve-a', memGiB: 8 },
  { vmid: 1002, node: 'pve-a', memGiB: 6 },
  { vmid: 1003, node: 'pve-a', memGiB: 4 },
  { vmid: 1004, node: 'pve-a', memGiB: 3 },
  { vmid: 1005, node: 'pve-a', memGiB: 2 },
  { vmid: 1006, node: 'pve-b', memGiB: 4 },
  { vmid: 1007, node: 'pve-c', memGiB: 2 },
];

function memCv(s: ClusterSnapshot, drained: readonly string[] = []): number {
  return coefficientOfVariation(
    s.nodes.filter((n) => n.status === 'online' && !drained.includes(n.name)).map((n) => n.mem / n.maxmem),
  );
}

function migrations(commands: readonly Command[]) {
  return commands.flatMap((c) => (c.action.kind === 'migrate' ? [c.action] : []));
}

function viewOf(snapshot: ClusterSnapshot, s: CoreSettings = settings, now = NOW): RuleView {
  const projected = projectCluster(snapshot, s, []);
  return {
    snapshot,
    settings: s,
    now,
    loads: nodeLoadsOf(projected),
    actionable: roundActionable(snapshot, s, projected, {}, now),
    inFlight: [],
    random: () => 0,
  };
}

describe('balance rule: hold rounds', () => {
  it('moves nothing until the imbalance has stayed above the threshold for holdRounds rounds', () => {
    const snap = cluster(four, skewed);
    const config = balance({ holdRounds: 3 });
    let core = emptyCore(1);
    for (let i = 1; i <= 2; i++) {
      const r = round(core, { ...snap, takenAt: NOW + i * 10_000 }, config, { cycle: i });
      expect(r.commands).toEqual([]);
      expect(r.notes.join('\n')).toContain(`for ${i} of 3 round(s): holding`);
      core = r.core;
    }
    const third = round(core, { ...snap, takenAt: NOW + 30_000 }, config, { cycle: 3 });
    expect(migrations(third.commands).length).toBeGreaterThan(0);
    expect(migrations(third.commands).some((m) => m.from === 'pve-a')).toBe(true);
  });

  it('a spike of one round moves nothing: the count starts again once it is back under', () => {
    const skewedSnap = cluster(four, skewed);
    const even = cluster(four, [
      { vmid: 1001, node: 'pve-a', memGiB: 8 },
      { vmid: 1002, node: 'pve-b', memGiB: 6 },
      { vmid: 1003, node: 'pve-c', memGiB: 7 },
      { vmid: 1006, node: 'pve-d', memGiB: 7 },
    ]);
    expect(memCv(even)).toBeLessThan(0.2);
    const config = balance({ holdRounds: 2 });
    let core = emptyCore(1);
    const sequence = [even, skewedSnap, even, skewedSnap, even];
    sequence.forEach((snap, i) => {
      const r = round(core, { ...snap, takenAt: NOW + i * 10_000 }, config, { cycle: i + 1 });
      expect(r.commands).toEqual([]);
      core = r.core;
    });
    expect((core.ruleStates.balance as BalanceState).above).toBe(0);
  });
});

describe('balance rule: the moves it chooses', () => {
  it('cuts the imbalance by at least the margin with every move, and stops at the target', () => {
    const snap = cluster(four, skewed);
    const config = balance({ holdRounds: 1, margin: 0.02, target: 0.05 });
    const plan = planBalance(viewOf(snap), config, emptyBalanceState(), { budgets: false });
    expect(plan.moves.length).toBeGreaterThan(1);
    let before = plan.imbalance;
    let s = snap;
    for (const m of plan.moves) {
      expect(m.imbalanceBefore).toBeCloseTo(before, 9);
      expect(before - m.imbalanceAfter).toBeGreaterThanOrEqual(0.02);
      s = afterMoves(s, [m]);
      // The rule's figure is the used-memory CV itself (weights: memory only).
      expect(memCv(s)).toBeCloseTo(m.imbalanceAfter, 9);
      before = m.imbalanceAfter;
    }
    // No further move once the target is reached, and the last one got there or nothing else could.
    const last = plan.moves.at(-1)!;
    const again = planBalance(viewOf(s), config, emptyBalanceState(), { budgets: false });
    expect(last.imbalanceAfter <= 0.05 || again.moves.length === 0).toBe(true);
  });

  it('moves nothing when no move cuts the imbalance by the margin, and says so', () => {
    const r = round(emptyCore(1), cluster(four, skewed), balance({ holdRounds: 1, margin: 5 }));
    expect(r.commands).toEqual([]);
    expect(r.notes.join('\n')).toMatch(/no move cuts it by the margin \(5\.000\)/);
  });

  it('never makes its target the hottest node', () => {
    // One 30 GiB container on pve-a, nothing on pve-b: the move would only swap the roles.
    const snap = cluster([{ name: 'pve-a' }, { name: 'pve-b' }], [{ vmid: 1001, node: 'pve-a', memGiB: 30 }]);
    const r = round(emptyCore(1), snap, balance({ holdRounds: 1, margin: 0 }));
    expect(r.commands).toEqual([]);
  });

  it('takes several moves at once within the per-node budget', () => {
    const r = round(emptyCore(1), cluster(four, skewed), balance({ holdRounds: 1, target: 0 }));
    const moves = migrations(r.commands);
    expect(moves.length).toBeGreaterThan(1);
    // maxPerNode 2: no node has more than two migrations into or out of it.
    for (const name of four.map((n) => n.name)) {
      expect(moves.filter((m) => m.from === name || m.to === name).length).toBeLessThanOrEqual(2);
    }
  });

  it('counts the moves in flight: the next round starts from the imbalance they leave', () => {
    const snap = cluster(four, skewed);
    const config = balance({ holdRounds: 1, target: 0, maxMovesPerRound: 1 });
    const first = round(emptyCore(1), snap, config);
    const [move] = migrations(first.commands);
    expect(move).toBeDefined();
    // Same observation (the move still under way): the plan counts it as done.
    const view = { ...viewOf({ ...snap, takenAt: NOW + 10_000 }), inFlight: [move!] };
    const plan = planBalance(view, config, emptyBalanceState(), { budgets: false });
    expect(plan.imbalance).toBeCloseTo(memCv(afterMoves(snap, [move!])), 9);
    const second = round(first.core, { ...snap, takenAt: NOW + 10_000 }, config, { cycle: 2 });
    const next = migrations(second.commands);
    expect(next.map((m) => m.vmid)).not.toContain(move!.vmid);
    expect(next[0]?.reason).toBe(plan.moves[0]?.reason);
  });

  it('sends nothing to a drained node and leaves it out of the imbalance', () => {
    const drained = { ...settings, drainedNodes: ['pve-d'] };
    const r = round(emptyCore(1), cluster(four, skewed), balance({ holdRounds: 1, target: 0 }), {
      settings: drained,
    });
    const moves = migrations(r.commands);
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.some((m) => m.to === 'pve-d')).toBe(false);
  });

  it('does not move a container in the manager’s cooldown', () => {
    const core = { ...emptyCore(1), cooldownUntil: { '1001': NOW + 60_000, '1002': NOW + 60_000 } };
    const r = round(core, cluster(four, skewed), balance({ holdRounds: 1, target: 0 }));
    const moved = migrations(r.commands).map((m) => m.vmid);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved).not.toContain(1001);
    expect(moved).not.toContain(1002);
  });

  it('no ping-pong: a container it moved is not moved again, and nothing goes back the same way', () => {
    const config = balance({ holdRounds: 1, target: 0, maxMovesPerRound: 1, cooldownSeconds: 600 });
    const snap = cluster(four, skewed);
    const first = round(emptyCore(1), snap, config);
    const [move] = migrations(first.commands);
    expect(move).toBeDefined();
    // It succeeded; then the load tips the other way: the target is now the hot one.
    const outcome = {
      decisionId: first.commands[0]!.decisionId,
      status: 'succeeded' as const,
      started: true,
      at: NOW + 5_000,
    };
    let tipped = afterMoves(snap, [move!]);
    tipped = afterMoves(tipped, [
      { vmid: 1002, to: move!.to },
      { vmid: 1003, to: move!.to },
    ]);
    tipped.takenAt = NOW + 120_000;
    const later = round(first.core, tipped, config, { cycle: 2, outcomes: [outcome], now: NOW + 120_000 });
    for (const m of migrations(later.commands)) {
      expect(m.vmid).not.toBe(move!.vmid);
      expect(`${m.from}>${m.to}`).not.toBe(`${move!.to}>${move!.from}`);
    }
    // After the cooldown the way back is open again.
    const state = later.core.ruleStates.balance as BalanceState;
    expect(state.moved[String(move!.vmid)]).toBeDefined();
    const muchLater = round(later.core, { ...tipped, takenAt: NOW + 900_000 }, config, {
      cycle: 3,
      now: NOW + 900_000,
    });
    expect((muchLater.core.ruleStates.balance as BalanceState).moved[String(move!.vmid)]).toBeUndefined();
  });

  it('forgets a proposal the manager never started', () => {
    // A recommendation-only round: nothing starts, so nothing is on its way the next round.
    const config = balance({ holdRounds: 1, target: 0, maxMovesPerRound: 1 });
    const snap = cluster(four, skewed);
    const projected = projectCluster(snap, settings, []);
    const view: RuleView = { ...viewOf(snap), loads: nodeLoadsOf(projected) };
    const first = balanceRule.evaluate(view, config, emptyBalanceState());
    expect(Object.keys(first.state.moved)).toHaveLength(1);
    const second = balanceRule.evaluate({ ...view, now: NOW + 10_000 }, config, first.state);
    const vmid = Object.keys(first.state.moved)[0]!;
    // Proposed again (it is still the best move) and recorded afresh, not kept as a stale record.
    expect(second.state.moved[vmid]?.[0]).toBe(Math.floor((NOW + 10_000) / 1000));
  });
});

describe('balance rule: which move first (fewest moves, least memory)', () => {
  // pve-a holds the containers listed, pve-b..d nothing: each row is the first move the plan takes.
  // A move ranks by its cut of the imbalance over (its memory + 4 GiB): a move is worth 4 GiB.
  const rows: Array<{ name: string; onA: number[]; first: number }> = [
    // The 6 GiB cuts most (1.347 → 0.793), the 5 GiB nearly as much (→ 0.839) with 1 GiB less.
    { name: 'nearly the largest cut for less memory', onA: [6, 3, 5], first: 5 },
    // A move is worth 4 GiB: three 1 GiB moves would not do what one 8 GiB move does.
    { name: 'the largest useful container over a small one', onA: [8, 8, 8, 1], first: 8 },
    { name: 'the largest useful container', onA: [4, 2, 2, 2], first: 4 },
    // The 6 GiB would make its target the hottest node (7 GiB against pve-a's 2).
    { name: 'not a container that only swaps the roles', onA: [6, 1], first: 1 },
  ];
  for (const row of rows) {
    it(`${row.name}: pve-a with ${row.onA.join(', ')} GiB moves the ${row.first} GiB first`, () => {
      const cts = row.onA.map((memGiB, i) => ({ vmid: 1001 + i, node: 'pve-a', memGiB }));
      const config = balance({ holdRounds: 1, target: 0, maxMovesPerRound: 1 });
      const plan = planBalance(viewOf(cluster(four, cts)), config, emptyBalanceState(), { budgets: false });
      expect(plan.moves.map((m) => [m.from, m.memBytes / GiB])).toEqual([['pve-a', row.first]]);
    });
  }

  /** pve-a: 12 + 8 GiB and 0.5 GiB on its way to pve-d; pve-b 4 + 2 GiB; pve-c empty. */
  const busy = cluster(four, [
    { vmid: 1001, node: 'pve-a', memGiB: 12 },
    { vmid: 1002, node: 'pve-a', memGiB: 8 },
    { vmid: 1003, node: 'pve-a', memGiB: 0.5 },
    { vmid: 1004, node: 'pve-b', memGiB: 4 },
    { vmid: 1005, node: 'pve-b', memGiB: 2 },
  ]);
  const flying = { kind: 'migrate', vmid: 1003, from: 'pve-a', to: 'pve-d', reason: '' } as const;
  const oneSlot: CoreSettings = { ...settings, maxPerNode: 1 };
  const busyView = (s: CoreSettings): RuleView => {
    const projected = projectCluster(busy, s, [flying]);
    return {
      ...viewOf(busy, s),
      loads: nodeLoadsOf(projected),
      actionable: roundActionable(busy, s, projected, {}, NOW),
      inFlight: [flying],
    };
  };

  it('waits for a free slot on the hottest node rather than start a worse move that fits now', () => {
    // pve-a → pve-c (8 GiB: 1.059 → 0.543) gets to the target; with one slot per node, pve-a's is
    // taken by the move in flight.
    const config = balance({ holdRounds: 1, threshold: 0.9, target: 0.6, margin: 0.01 });
    const free = planBalance(busyView(settings), config, emptyBalanceState(), { budgets: true });
    expect(free.moves.map((m) => [m.vmid, m.from, m.to])).toEqual([[1002, 'pve-a', 'pve-c']]);
    const full = planBalance(busyView(oneSlot), config, emptyBalanceState(), { budgets: true });
    // Not a move from pve-b, which would cut the imbalance too, but far less.
    expect(full.moves).toEqual([]);
    expect(full.notes.join('\n')).toContain('1 more move(s) of the plan wait for a free migration slot');
    // suggest (no budgets) shows the move that waits.
    const shown = planBalance(busyView(oneSlot), config, emptyBalanceState(), { budgets: false });
    expect(shown.moves.map((m) => m.vmid)).toEqual([1002]);
  });

  it('runs at most maxMovesAhead moves ahead of the cluster, the moves in flight counted', () => {
    // The plan: pve-a → pve-c, then pve-b → pve-d, beside the move in flight.
    const view = busyView(settings);
    const ahead = (maxMovesAhead: number) =>
      planBalance(view, balance({ holdRounds: 1, target: 0, maxMovesAhead }), emptyBalanceState(), {
        budgets: true,
      }).moves.length;
    expect(ahead(1)).toBe(0);
    expect(ahead(2)).toBe(1);
    expect(ahead(3)).toBe(2);
  });
});

describe('balance rule: properties', () => {
  const nodeNames = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
  const arbitraryCluster = fc
    .record({
      nodes: fc.integer({ min: 2, max: 6 }),
      sizes: fc.array(fc.constantFrom(16, 32, 64, 128), { minLength: 6, maxLength: 6 }),
      cts: fc.array(
        fc.record({
          node: fc.nat(5),
          memGiB: fc.integer({ min: 1, max: 12 }),
          limitExtra: fc.integer({ min: 0, max: 8 }),
          cpu: fc.double({ min: 0, max: 1, noNaN: true }),
          cores: fc.constantFrom(1, 2, 4),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      cooling: fc.array(fc.nat(29), { maxLength: 6 }),
      drained: fc.option(fc.nat(5), { nil: undefined }),
      weightCpu: fc.constantFrom(0, 1),
      margin: fc.constantFrom(0, 0.005, 0.02),
    })
    .map((r) => {
      const names = nodeNames.slice(0, r.nodes);
      const specs: CtSpec[] = r.cts.map((c, i) => ({
        vmid: 1000 + i,
        node: names[c.node % r.nodes]!,
        memGiB: c.memGiB,
        limitGiB: c.memGiB + c.limitExtra,
        cpu: Math.round(c.cpu * 100) / 100,
        cores: c.cores,
      }));
      const nodes = names.map((name, i) => ({ name, memGiB: r.sizes[i]! }));
      return { ...r, names, specs, nodes };
    });

  it('never overcommits a node, never moves a cooling container, never targets a drained node, and every move cuts the imbalance by the margin', () => {
    fc.assert(
      fc.property(arbitraryCluster, (c) => {
        const snap = cluster(c.nodes, c.specs);
        const drainedNodes = c.drained === undefined ? [] : [c.names[c.drained % c.names.length]!];
        const s: CoreSettings = { ...settings, drainedNodes, maxConcurrent: 16, maxPerNode: 4 };
        const cooldownUntil = Object.fromEntries(c.cooling.map((i) => [String(1000 + i), NOW + 60_000]));
        const config: BalanceConfig = balance({
          holdRounds: 1,
          target: 0,
          threshold: 0,
          margin: c.margin,
          weights: { cpu: c.weightCpu, memory: 1 },
          maxMovesPerRound: 16,
        });
        const r = round({ ...emptyCore(1), cooldownUntil }, snap, config, { settings: s });
        const moves = migrations(r.commands);
        const reserved = new Map<string, number>();
        const cts = new Map(snap.containers.map((x) => [x.vmid, x]));
        for (const m of moves) {
          expect(cooldownUntil[String(m.vmid)]).toBeUndefined();
          expect(drainedNodes).not.toContain(m.to);
          const ct = cts.get(m.vmid)!;
          const target = snap.nodes.find((n) => n.name === m.to)!;
          const used = target.mem + (reserved.get(m.to) ?? 0) + ct.maxmem;
          expect(used).toBeLessThanOrEqual(s.admissionShare * target.maxmem + 1);
          reserved.set(m.to, (reserved.get(m.to) ?? 0) + ct.maxmem);
        }
        // The same moves, replayed on the plan's own figures: each one cut the imbalance by the margin.
        const view = viewOf(snap, s);
        const actionable = new Set(
          roundActionable(snap, s, projectCluster(snap, s, []), cooldownUntil, NOW).map((x) => x.vmid),
        );
        const plan = planBalance(
          { ...view, actionable: view.actionable.filter((x) => actionable.has(x.vmid)) },
          config,
          emptyBalanceState(),
          { budgets: true },
        );
        expect(plan.moves.map((m) => m.vmid)).toEqual(moves.map((m) => m.vmid));
        for (const m of plan.moves) {
          expect(m.imbalanceBefore - m.imbalanceAfter).toBeGreaterThanOrEqual(c.margin - 1e-9);
          // The target ends cooler than its source was.
          expect(m.targetLoad[1]).toBeLessThan(m.sourceLoad[0]);
          expect(m.targetProjectedMemPercent).toBeLessThanOrEqual(s.admissionShare * 100 + 1e-9);
        }
        if (c.weightCpu === 0) {
          let snapAfter = snap;
          let before = memCv(snap, drainedNodes);
          for (const m of moves) {
            snapAfter = afterMoves(snapAfter, [m]);
            const after = memCv(snapAfter, drainedNodes);
            expect(before - after).toBeGreaterThanOrEqual(c.margin - 1e-9);
            // Never the new hottest node.
            const pctOf = (name: string) => {
              const n = snapAfter.nodes.find((x) => x.name === name)!;
              return n.mem / n.maxmem;
            };
            const others = snapAfter.nodes.filter((n) => n.name !== m.to && !drainedNodes.includes(n.name));
            expect(pctOf(m.to)).toBeLessThan(Math.max(...others.map((n) => n.mem / n.maxmem)));
            before = after;
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('balance config', () => {
  it('has the documented defaults, off', () => {
    expect(balanceConfigSchema.parse({})).toMatchObject({
      enabled: false,
      priority: 60,
      weights: { cpu: 1, memory: 1, disk: 0 },
      threshold: 0.3,
      holdRounds: 3,
    });
  });

  it('refuses a target above the threshold and weights that are all zero, naming the field', () => {
    expect(() => parseConfig('balance:\n  threshold: 0.2\n  target: 0.3\n', {})).toThrow(
      /balance\.target: expected a number between 0 and balance\.threshold \(0\.2\)/,
    );
    expect(() => parseConfig('balance:\n  weights: { cpu: 0, memory: 0 }\n', {})).toThrow(
      /balance\.weights: expected at least one weight greater than 0/,
    );
    expect(() => parseConfig('balance:\n  holdRounds: 0\n', {})).toThrow(/balance\.holdRounds/);
  });
});

void GiB;
