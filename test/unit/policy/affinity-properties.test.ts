// Properties of strict affinity rules in the manager's round, over random clusters, random strict
// and preferred rules, random moves in flight and random proposals from several rules (the real
// affinity rule among them): no admitted plan breaks a strict rule. "Breaks" is recomputed here
// from the snapshot, not from step's projection: a rule that held before the round holds after it,
// and no strict rule ends the round more broken than it began.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Action, ClusterSnapshot, ContainerState } from '../../../src/domain';
import {
  affinityRule,
  emptyCore,
  isMember,
  step,
  type AffinityRule,
  type AnyRule,
  type CoreSettings,
  type Decision,
  type RoundInput,
} from '../../../src/policy';
import { ct, node, NOW } from './fixtures';

const NODES = ['pve1', 'pve2', 'pve3', 'pve4'];
const TAGS = ['web', 'db', 'lic'];

const clusterArb: fc.Arbitrary<ClusterSnapshot> = fc.integer({ min: 2, max: 4 }).chain((count) => {
  const names = NODES.slice(0, count);
  const container = fc
    .record({
      vmid: fc.integer({ min: 1400, max: 1420 }),
      node: fc.constantFrom(...names),
      maxmemMiB: fc.constantFrom(512, 1024, 2048),
      tags: fc.subarray(TAGS),
      pool: fc.constantFrom(undefined, 'dns', 'mail'),
      // A few outside the managed range: members that count but never move.
      outside: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    })
    .map((r): ContainerState =>
      ct(r.outside ? r.vmid - 1000 : r.vmid, r.node, r.maxmemMiB, {
        uptime: 86_400,
        tags: r.tags,
        ...(r.pool === undefined ? {} : { pool: r.pool }),
      }),
    );
  return fc.record({
    takenAt: fc.constant(NOW),
    nodes: fc.tuple(...names.map((n) => fc.integer({ min: 4, max: 16 }).map((gib) => node(n, gib)))),
    containers: fc.uniqueArray(container, { minLength: 2, maxLength: 14, selector: (c) => c.vmid }),
  });
});

function rulesArb(snapshot: ClusterSnapshot): fc.Arbitrary<AffinityRule[]> {
  const vmids = snapshot.containers.map((c) => c.vmid);
  const names = snapshot.nodes.map((n) => n.name);
  const selector = fc.oneof(
    fc.uniqueArray(fc.constantFrom(...vmids), { minLength: 2, maxLength: 5 }).map((v) => ({ vmids: v })),
    fc.constantFrom('dns', 'mail').map((pool) => ({ pool })),
    fc.constantFrom(...TAGS).map((tag) => ({ tag })),
  );
  const one = fc.record({
    kind: fc.constantFrom('anti-affinity' as const, 'affinity' as const, 'pin' as const),
    selector,
    nodes: fc.subarray(names, { minLength: 1 }),
    strict: fc.boolean(),
  });
  return fc.array(one, { maxLength: 4 }).map((list) =>
    list.map((r, i) => ({
      name: `r${i}`,
      kind: r.kind,
      strict: r.strict,
      ...r.selector,
      ...(r.kind === 'pin' ? { nodes: r.nodes } : {}),
    })),
  );
}

function movesArb(snapshot: ClusterSnapshot): fc.Arbitrary<Action[]> {
  const names = snapshot.nodes.map((n) => n.name);
  return fc.array(
    fc
      .record({ c: fc.constantFrom(...snapshot.containers), to: fc.constantFrom(...names) })
      .map(({ c, to }): Action => ({ kind: 'migrate', vmid: c.vmid, from: c.node, to, reason: 'test' })),
    { maxLength: 8 },
  );
}

function fixedRule(name: string, actions: Action[]): AnyRule {
  return {
    name,
    config: z.object({}).passthrough() as unknown as AnyRule['config'],
    initialState: () => null,
    evaluate: () => ({ proposals: actions.map((action) => ({ action })), state: null, notes: [] }),
  };
}

const roundArb: fc.Arbitrary<Round> = clusterArb.chain((snapshot) =>
  fc.record({
    snapshot: fc.constant(snapshot),
    rules: rulesArb(snapshot),
    proposals: fc.array(movesArb(snapshot), { minLength: 1, maxLength: 3 }),
    inFlight: movesArb(snapshot),
    automation: fc.constantFrom('auto' as const, 'recommend' as const),
  }),
);

interface Round {
  snapshot: ClusterSnapshot;
  rules: AffinityRule[];
  proposals: Action[][];
  inFlight: Action[];
  automation: 'auto' | 'recommend';
}

function inputOf(r: Round): RoundInput {
  const settings: CoreSettings = {
    scope: { vmidMin: 1400, vmidMax: 1499 },
    capacityBasis: 'allocated',
    admissionShare: 0.9,
    cpuShare: 0.9,
    maxConcurrent: 16,
    maxPerNode: 16,
    maxPerKind: {},
    cooldownMs: 60_000,
    drainedNodes: [],
    affinity: r.rules,
  };
  const seen = new Set<number>();
  const decisions: Decision[] = [];
  r.inFlight.forEach((action, i) => {
    if (action.kind !== 'migrate' || seen.has(action.vmid) || action.from === action.to) return;
    seen.add(action.vmid);
    decisions.push({ id: `c1-${i + 1}`, cycle: 1, at: NOW - 10_000, action, status: 'running' });
  });
  return {
    core: { ...emptyCore(1), decisions },
    settings,
    automation: r.automation,
    rules: [
      { rule: affinityRule, config: affinityRule.config.parse({ rules: r.rules }) },
      ...r.proposals.map((actions, i) => ({
        rule: fixedRule(`test-${i + 1}`, actions),
        config: { enabled: true, automation: 'auto' as const, priority: 10 + i * 40 },
      })),
    ],
    snapshot: r.snapshot,
    cycle: 2,
    evaluate: true,
    now: NOW,
    outcomes: [],
  };
}

/** Where each container is once `moves` land (in order, those that start where the CT is). */
function placesAfter(snapshot: ClusterSnapshot, moves: readonly Action[]): Map<number, string> {
  const at = new Map(snapshot.containers.map((c) => [c.vmid, c.node]));
  for (const m of moves) if (m.kind === 'migrate' && at.get(m.vmid) === m.from) at.set(m.vmid, m.to);
  return at;
}

/** How broken a rule is: members off their nodes, co-located members, or groups beyond one node. */
function brokenness(rule: AffinityRule, snapshot: ClusterSnapshot, at: ReadonlyMap<number, string>): number {
  const nodes = snapshot.containers.filter((c) => isMember(rule, c)).map((c) => at.get(c.vmid) as string);
  const distinct = new Set(nodes).size;
  switch (rule.kind) {
    case 'pin':
      return nodes.filter((n) => !(rule.nodes ?? []).includes(n)).length;
    case 'anti-affinity':
      return nodes.length - distinct;
    case 'affinity':
      return Math.max(0, distinct - 1);
  }
}

describe('strict affinity rules in the round', () => {
  it('no admitted plan breaks a strict rule, whatever the rules propose', () => {
    fc.assert(
      fc.property(roundArb, (r) => {
        const input = inputOf(r);
        const result = step(input);
        const inFlight = input.core.decisions.map((d) => d.action);
        // Admitted this round: the commands, and the recommendations (they reserve room as well).
        const admitted = result.core.decisions
          .filter((d) => d.cycle === 2 && (d.status === 'running' || d.status === 'recommended'))
          .map((d) => d.action);
        const before = placesAfter(r.snapshot, inFlight);
        const after = placesAfter(r.snapshot, [...inFlight, ...admitted]);
        for (const rule of r.rules.filter((x) => x.strict)) {
          const was = brokenness(rule, r.snapshot, before);
          const is = brokenness(rule, r.snapshot, after);
          if (was === 0) expect(is, `${rule.kind} ${JSON.stringify(rule)} held before`).toBe(0);
          expect(is, `${rule.kind} ${JSON.stringify(rule)}`).toBeLessThanOrEqual(was);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("the affinity rule's own repairs never leave a strict rule more broken", () => {
    fc.assert(
      fc.property(roundArb, (r) => {
        const input = inputOf({ ...r, proposals: [], inFlight: [] });
        const result = step(input);
        const moves = result.core.decisions.map((d) => d.action);
        const after = placesAfter(r.snapshot, moves);
        const before = placesAfter(r.snapshot, []);
        for (const rule of r.rules.filter((x) => x.strict)) {
          expect(brokenness(rule, r.snapshot, after)).toBeLessThanOrEqual(
            brokenness(rule, r.snapshot, before),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
