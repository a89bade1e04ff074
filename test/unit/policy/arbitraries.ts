// fast-check generators of small, busy clusters: sizes chosen so thresholds are crossed often.

import fc from 'fast-check';
import type { Action, ClusterSnapshot, ContainerState, NodeState } from '../../../src/domain';
import type { DecisionMemory, ManagerPolicy } from '../../../src/policy';
import { GiB, MiB, NOW } from './fixtures';

const nodeNames = ['pve1', 'pve2', 'pve3', 'pve4'];

function nodeArb(name: string): fc.Arbitrary<NodeState> {
  return fc
    .record({
      status: fc.constantFrom(
        'online',
        'online',
        'online',
        'online',
        'online',
        'online',
        'offline',
        'unknown',
      ),
      maxmemGiB: fc.integer({ min: 4, max: 16 }),
      usedShare: fc.double({ min: 0, max: 0.6, noNaN: true }),
    })
    .map((r) => ({
      name,
      status: r.status,
      cpu: 0.1,
      maxcpu: 8,
      mem: Math.floor(r.maxmemGiB * GiB * r.usedShare),
      maxmem: r.maxmemGiB * GiB,
      disk: 0,
      maxdisk: 100 * GiB,
    }));
}

function containerArb(nodes: readonly string[]): fc.Arbitrary<ContainerState> {
  return fc
    .record({
      vmid: fc.integer({ min: 1380, max: 1520 }),
      node: fc.constantFrom(...nodes, 'ghost'),
      status: fc.constantFrom('running', 'running', 'stopped'),
      maxmemMiB: fc.constantFrom(256, 512, 768, 1024),
      usedShare: fc.double({ min: 0, max: 1, noNaN: true }),
      uptime: fc.integer({ min: 0, max: 1_000_000 }),
      tags: fc.constantFrom([], ['autopilot'], ['autopilot'], ['other', 'autopilot'], ['other']),
      pool: fc.constantFrom(undefined, 'lab', 'lab', 'other'),
      lock: fc.constantFrom(undefined, undefined, undefined, undefined, 'migrate', 'backup'),
      template: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    })
    .map((r) => ({
      vmid: r.vmid,
      name: `ct-${r.vmid}`,
      node: r.node,
      status: r.status,
      cpu: 0.01,
      maxcpu: 1,
      mem: r.status === 'stopped' ? 0 : Math.floor(r.maxmemMiB * MiB * r.usedShare),
      maxmem: r.maxmemMiB * MiB,
      disk: 0,
      maxdisk: 4 * GiB,
      uptime: r.status === 'stopped' ? 0 : r.uptime,
      tags: [...r.tags],
      ...(r.pool === undefined ? {} : { pool: r.pool }),
      ...(r.lock === undefined ? {} : { lock: r.lock }),
      template: r.template,
    }));
}

export const snapshotArb: fc.Arbitrary<ClusterSnapshot> = fc.integer({ min: 1, max: 4 }).chain((count) => {
  const names = nodeNames.slice(0, count);
  return fc.record({
    takenAt: fc.constant(NOW),
    nodes: fc.tuple(...names.map(nodeArb)),
    containers: fc.uniqueArray(containerArb(names), { minLength: 6, maxLength: 24, selector: (c) => c.vmid }),
  });
});

export const policyArb: fc.Arbitrary<ManagerPolicy> = fc
  .record({
    pool: fc.constantFrom(undefined, undefined, 'lab'),
    tag: fc.constantFrom(undefined, undefined, 'autopilot'),
    capacityBasis: fc.constantFrom('allocated', 'used'),
    migratePercent: fc.integer({ min: 2, max: 30 }),
    dropExtra: fc.integer({ min: 0, max: 30 }),
    migrateChoice: fc.constantFrom('random', 'best-fit'),
    dropMode: fc.constantFrom('stop', 'destroy'),
    maxConcurrent: fc.integer({ min: 0, max: 6 }),
    admissionShare: fc.double({ min: 0.5, max: 1, noNaN: true }),
  })
  .map((r) => ({
    scope: {
      vmidMin: 1400,
      vmidMax: 1499,
      ...(r.pool === undefined ? {} : { pool: r.pool }),
      ...(r.tag === undefined ? {} : { tag: r.tag }),
    },
    capacityBasis: r.capacityBasis,
    migratePercent: r.migratePercent,
    dropPercent: r.migratePercent + r.dropExtra,
    migrateChoice: r.migrateChoice,
    dropMode: r.dropMode,
    maxConcurrent: r.maxConcurrent,
    cooldownMs: 60_000,
    admissionShare: r.admissionShare,
  }));

/** Memory whose in-flight actions and cooldowns point at containers of the snapshot. */
export function memoryArb(
  cluster: ClusterSnapshot,
  options: { inFlight: boolean },
): fc.Arbitrary<DecisionMemory> {
  const vmids = cluster.containers.map((c) => c.vmid);
  const some =
    vmids.length === 0
      ? fc.constant<number[]>([])
      : fc.subarray(vmids, { maxLength: Math.min(4, vmids.length) });
  return fc.record({
    now: fc.constant(NOW),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    inFlight: options.inFlight
      ? some.map((ids) =>
          ids.map((vmid): Action => {
            const c = cluster.containers.find((x) => x.vmid === vmid) as ContainerState;
            return { kind: 'drop', vmid, node: c.node, mode: 'destroy', reason: 'in flight' };
          }),
        )
      : fc.constant([]),
    cooldownUntil: some.chain((ids) =>
      fc
        .tuple(...ids.map(() => fc.integer({ min: -120_000, max: 120_000 })))
        .map((offsets) => Object.fromEntries(ids.map((id, i) => [String(id), NOW + (offsets[i] ?? 0)]))),
    ),
  });
}
