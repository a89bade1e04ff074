// The optimised lab rules decide exactly as their first versions did (kept in reference-*-v1.ts):
// the same actions with the same reasons, the same notes, and the same number of draws, on random
// clusters, including clusters of many nodes of equal size where ties between targets are common.
// The legacy manager replays recorded histories with these rules, so nothing may differ.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, ContainerState, NodeState } from '../../../../src/domain';
import {
  createRuleContext,
  dropRule,
  migrateRule,
  type DecisionMemory,
  type LabRule,
  type ManagerPolicy,
} from '../../../../src/policy';
import { memoryArb, policyArb, snapshotArb } from '../arbitraries';
import { GiB, MiB, NOW } from '../fixtures';
import { referenceDropRule } from './reference-drop-v1';
import { referenceMigrateRule } from './reference-migrate-v1';

/** Many nodes of a few sizes, many containers of a few sizes: ties everywhere. */
const wideSnapshotArb: fc.Arbitrary<ClusterSnapshot> = fc.integer({ min: 2, max: 14 }).chain((count) => {
  const names = Array.from({ length: count }, (_, i) => `n${String(i).padStart(2, '0')}`);
  const nodes = fc.tuple(
    ...names.map((name) =>
      fc
        .record({
          maxmemGiB: fc.constantFrom(8, 16, 16, 32),
          usedGiB: fc.integer({ min: 0, max: 14 }),
          online: fc.integer({ min: 0, max: 11 }).map((n) => n > 0),
        })
        .map((r): NodeState => ({
          name,
          status: r.online ? 'online' : 'offline',
          cpu: 0.1,
          maxcpu: 8,
          mem: Math.min(r.usedGiB, r.maxmemGiB) * GiB,
          maxmem: r.maxmemGiB * GiB,
          disk: 0,
          maxdisk: 100 * GiB,
        })),
    ),
  );
  const container = fc
    .record({
      vmid: fc.integer({ min: 1400, max: 1499 }),
      // Skewed: the first half of the nodes hold most containers, so there are sources and targets.
      node: fc.constantFrom(
        ...names.slice(0, Math.ceil(count / 2)),
        ...names.slice(0, Math.ceil(count / 2)),
        ...names,
      ),
      maxmemMiB: fc.constantFrom(256, 512, 512, 1024, 2048),
      running: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
      memMiB: fc.constantFrom(0, 100, 200, 256),
      uptime: fc.constantFrom(3600, 7200, 86_400),
    })
    .map((r): ContainerState => ({
      vmid: r.vmid,
      name: `ct-${r.vmid}`,
      node: r.node,
      status: r.running ? 'running' : 'stopped',
      cpu: 0.01,
      maxcpu: 1,
      mem: r.running ? r.memMiB * MiB : 0,
      maxmem: r.maxmemMiB * MiB,
      disk: 0,
      maxdisk: 4 * GiB,
      uptime: r.running ? r.uptime : 0,
      tags: ['autopilot'],
      template: false,
    }));
  return fc.record({
    takenAt: fc.constant(NOW),
    nodes,
    containers: fc.uniqueArray(container, { minLength: 20, maxLength: 80, selector: (c) => c.vmid }),
  });
});

function run(
  rule: LabRule,
  cluster: ClusterSnapshot,
  policy: ManagerPolicy,
  mem: DecisionMemory,
  draws: number[],
) {
  const notes: string[] = [];
  let drawn = 0;
  const ctx = createRuleContext(cluster, policy, mem, {
    random: () => draws[drawn++ % draws.length] as number,
    note: (text) => notes.push(text),
  });
  return { actions: rule(ctx), notes, drawn };
}

/** Thresholds from 4 to 60 %: the wide clusters hold more per node than the small ones. */
const widePolicyArb = fc.tuple(policyArb, fc.integer({ min: 1, max: 2 })).map(([p, k]): ManagerPolicy => ({
  ...p,
  // The wide clusters' containers are in no pool.
  scope: { vmidMin: 1400, vmidMax: 1499, ...(p.scope.tag === undefined ? {} : { tag: p.scope.tag }) },
  migratePercent: p.migratePercent * k,
  dropPercent: p.dropPercent * k,
}));

const caseArb = (snapshots: fc.Arbitrary<ClusterSnapshot>, policies = policyArb) =>
  snapshots.chain((cluster) =>
    fc.record({
      cluster: fc.constant(cluster),
      policy: policies,
      memory: memoryArb(cluster, { inFlight: true }),
      draws: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 8,
      }),
    }),
  );

describe('the optimised lab rules decide as the first versions did', () => {
  for (const [name, snapshots, policies] of [
    ['small clusters', snapshotArb, policyArb],
    ['many equal nodes', wideSnapshotArb, widePolicyArb],
  ] as const) {
    it(`migrate: same actions, reasons, notes and draws (${name})`, () => {
      fc.assert(
        fc.property(caseArb(snapshots, policies), ({ cluster, policy, memory, draws }) => {
          const expected = run(referenceMigrateRule, cluster, policy, memory, draws);
          expect(run(migrateRule, cluster, policy, memory, draws)).toEqual(expected);
        }),
        { numRuns: 600 },
      );
    });

    it(`drop: same actions, reasons and notes (${name})`, () => {
      fc.assert(
        fc.property(caseArb(snapshots, policies), ({ cluster, policy, memory, draws }) => {
          const expected = run(referenceDropRule, cluster, policy, memory, draws);
          expect(run(dropRule, cluster, policy, memory, draws)).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('the generated cases do move containers, so the comparison is not vacuous', () => {
    let moves = 0;
    let random = 0;
    fc.assert(
      fc.property(caseArb(wideSnapshotArb, widePolicyArb), ({ cluster, policy, memory, draws }) => {
        const { actions } = run(referenceMigrateRule, cluster, policy, memory, draws);
        moves += actions.length;
        if (policy.migrateChoice === 'random' && actions.length > 0) random++;
      }),
      { numRuns: 300, seed: 5 },
    );
    expect(moves).toBeGreaterThan(150);
    expect(random).toBeGreaterThan(30);
  });
});
