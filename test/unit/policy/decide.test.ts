import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isManaged, type Action, type ClusterSnapshot } from '../../../src/domain';
import {
  actionVmid,
  decide,
  footprintBytes,
  labRules,
  type ManagerPolicy,
  type LabRule,
} from '../../../src/policy';
import { memoryArb, policyArb, snapshotArb } from './arbitraries';
import { ct, labPolicy, memory, node, snapshot } from './fixtures';

// Three 16 GiB nodes each over 8 % (1536 MiB) and an empty 64 GiB one: three migrations are wanted,
// and moving the 768 MiB container evens each pair best.
const threeOver = snapshot(
  [node('a'), node('b'), node('c'), node('d', 64)],
  [1400, 1410, 1420].flatMap((base, i) => {
    const name = ['a', 'b', 'c'][i] as string;
    return [ct(base, name, 512), ct(base + 1, name, 768), ct(base + 2, name, 256)];
  }),
);

describe('decide', () => {
  it('migrates from each node over the threshold within the concurrency budget', () => {
    const { actions, notes } = decide(threeOver, labPolicy({ maxConcurrent: 3 }), memory());
    expect(actions.map((a) => [a.kind, actionVmid(a)])).toEqual([
      ['migrate', 1401],
      ['migrate', 1411],
      ['migrate', 1421],
    ]);
    expect(notes).toEqual([]);
  });

  it('proposes no more than maxConcurrent minus the operations in flight, and notes the rest', () => {
    const inFlight: Action[] = [{ kind: 'scale', vmid: 1499, node: 'd', cores: 2, reason: '' }];
    const { actions, notes } = decide(threeOver, labPolicy({ maxConcurrent: 2 }), memory({ inFlight }));
    expect(actions).toHaveLength(1);
    expect(notes).toEqual(['2 more action(s) deferred: at most 2 operation(s) at once, 1 in flight']);
  });

  it('proposes nothing when the operations in flight fill the budget', () => {
    const inFlight: Action[] = [
      { kind: 'scale', vmid: 1498, node: 'd', cores: 2, reason: '' },
      { kind: 'scale', vmid: 1499, node: 'd', cores: 2, reason: '' },
    ];
    expect(decide(threeOver, labPolicy({ maxConcurrent: 2 }), memory({ inFlight })).actions).toEqual([]);
  });

  it('drops rather than migrates when every node is over the drop threshold', () => {
    const full = snapshot(
      [node('a'), node('b')],
      [
        ct(1400, 'a', 1024, { uptime: 900 }),
        ct(1401, 'a', 1024),
        ct(1450, 'b', 1024, { uptime: 900 }),
        ct(1451, 'b', 1024),
      ],
    );
    const { actions } = decide(full, labPolicy(), memory());
    expect(actions.map((a) => [a.kind, actionVmid(a)])).toEqual([
      ['drop', 1400],
      ['drop', 1450],
    ]);
  });

  it('ignores, with a note, a rule that proposes an action outside the managed scope', () => {
    const rogue: LabRule = () => [{ kind: 'drop', vmid: 1399, node: 'a', mode: 'destroy', reason: 'rogue' }];
    const cluster = snapshot([node('a')], [ct(1399, 'a', 512)]);
    const { actions, notes } = decide(cluster, labPolicy(), memory(), [rogue]);
    expect(actions).toEqual([]);
    expect(notes).toEqual(['ignored a drop of CT 1399: it is not a container this manager may touch now']);
  });

  it('keeps only the first of two actions that rules propose for one container', () => {
    const stop: LabRule = () => [{ kind: 'drop', vmid: 1400, node: 'a', mode: 'stop', reason: 'first' }];
    const destroy: LabRule = () => [
      { kind: 'drop', vmid: 1400, node: 'a', mode: 'destroy', reason: 'second' },
    ];
    const cluster = snapshot([node('a')], [ct(1400, 'a', 512)]);
    expect(decide(cluster, labPolicy(), memory(), [stop, destroy]).actions).toMatchObject([
      { reason: 'first' },
    ]);
  });

  it('advances the seed only when a rule draws, so the next cycle continues the sequence', () => {
    const best = decide(threeOver, labPolicy(), memory({ seed: 5 }));
    expect(best.seed).toBe(5);
    const random = decide(threeOver, labPolicy({ migrateChoice: 'random' }), memory({ seed: 5 }));
    expect(random.seed).not.toBe(5);
  });
});

function shuffled<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i % Math.max(1, keys.length)] ?? 0, i }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map((x) => x.item);
}

const scenario = (inFlight: boolean) =>
  fc
    .tuple(snapshotArb, policyArb)
    .chain(([cluster, policy]) => memoryArb(cluster, { inFlight }).map((mem) => ({ cluster, policy, mem })));

describe('decide, for arbitrary clusters', () => {
  it('never proposes an action on a container that is unmanaged, locked, a template, busy or cooling down', () => {
    let proposed = 0;
    fc.assert(
      fc.property(scenario(true), ({ cluster, policy, mem }) => {
        for (const action of decide(cluster, policy, mem).actions) {
          proposed++;
          if (action.kind === 'provision') continue;
          const target = cluster.containers.find((c) => c.vmid === action.vmid);
          expect(target).toBeDefined();
          if (!target) continue;
          expect(isManaged(target, policy.scope)).toBe(true);
          expect(target.template).toBe(false);
          expect(target.lock).toBeUndefined();
          expect(mem.inFlight.some((a) => a.kind !== 'provision' && a.vmid === action.vmid)).toBe(false);
          expect((mem.cooldownUntil[String(action.vmid)] ?? 0) > mem.now).toBe(false);
          const online = cluster.nodes.filter((n) => n.status === 'online').map((n) => n.name);
          expect(online).toContain(target.node);
          if (action.kind === 'migrate') {
            expect(action.from).toBe(target.node);
            expect(online).toContain(action.to);
            expect(action.to).not.toBe(action.from);
          }
          if (action.kind === 'drop') expect(action.node).toBe(target.node);
        }
      }),
      { numRuns: 500 },
    );
    expect(proposed).toBeGreaterThanOrEqual(10);
  });

  it('never migrates to a node that would then pass the migrate threshold or its admission share', () => {
    let migrations = 0;
    fc.assert(
      fc.property(scenario(false), ({ cluster, policy, mem }) => {
        const managed = managedBytesByNode(cluster, policy);
        const used = Object.fromEntries(cluster.nodes.map((n) => [n.name, n.mem]));
        for (const action of decide(cluster, policy, mem).actions) {
          if (action.kind !== 'migrate') continue;
          migrations++;
          const moved = cluster.containers.find((c) => c.vmid === action.vmid);
          const target = cluster.nodes.find((n) => n.name === action.to);
          if (!moved || !target) throw new Error('a migration names an unknown container or node');
          const bytes = footprintBytes(moved, policy.capacityBasis);
          const after = (managed[action.to] ?? 0) + bytes;
          expect(after * 100).toBeLessThanOrEqual(policy.migratePercent * target.maxmem);
          expect((used[action.to] ?? 0) + moved.maxmem).toBeLessThanOrEqual(
            policy.admissionShare * target.maxmem,
          );
          managed[action.to] = after;
          managed[action.from] = (managed[action.from] ?? 0) - bytes;
          used[action.to] = (used[action.to] ?? 0) + moved.maxmem;
        }
      }),
      { numRuns: 500 },
    );
    // The property is only worth something if the generated clusters do lead to migrations.
    expect(migrations).toBeGreaterThanOrEqual(10);
  });

  it('decides the same for the same inputs, and leaves its inputs untouched', () => {
    fc.assert(
      fc.property(scenario(true), ({ cluster, policy, mem }) => {
        const before = structuredClone({ cluster, policy, mem });
        const first = decide(cluster, policy, mem);
        expect(decide(cluster, policy, mem)).toEqual(first);
        expect({ cluster, policy, mem }).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  it('decides the same whatever order the API lists nodes and containers in', () => {
    fc.assert(
      fc.property(scenario(true), fc.array(fc.integer(), { minLength: 1, maxLength: 10 }), (s, keys) => {
        const reordered = {
          ...s.cluster,
          nodes: shuffled(s.cluster.nodes, keys),
          containers: shuffled(s.cluster.containers, [...keys].reverse()),
        };
        expect(decide(reordered, s.policy, s.mem)).toEqual(decide(s.cluster, s.policy, s.mem));
      }),
      { numRuns: 200 },
    );
  });

  it('stays within the budget, touches each container at most once, and returns plain JSON', () => {
    fc.assert(
      fc.property(scenario(true), ({ cluster, policy, mem }) => {
        const decision = decide(cluster, policy, mem, labRules);
        expect(decision.actions.length).toBeLessThanOrEqual(
          Math.max(0, policy.maxConcurrent - mem.inFlight.length),
        );
        const vmids = decision.actions.map((a) => (a.kind === 'provision' ? -1 : a.vmid));
        expect(new Set(vmids).size).toBe(vmids.length);
        expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
      }),
      { numRuns: 200 },
    );
  });
});

function managedBytesByNode(cluster: ClusterSnapshot, policy: ManagerPolicy): Record<string, number> {
  const managed: Record<string, number> = {};
  for (const c of cluster.containers) {
    if (isManaged(c, policy.scope))
      managed[c.node] = (managed[c.node] ?? 0) + footprintBytes(c, policy.capacityBasis);
  }
  return managed;
}
