// The drain's placement: which containers leave a drained node next, and where they may go.
import { describe, expect, it } from 'vitest';
import { planEvacuation, type CoreSettings, type MigrateAction } from '../../../src/policy';
import { ct, GiB, node, snapshot } from './fixtures';

const settings: CoreSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 2,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

const base = { settings, node: 'pve1', inFlight: [] as MigrateAction[], slots: 10, skip: [] as number[] };

describe('planEvacuation', () => {
  it('moves every managed container off the node, largest first, and lists the unmanaged ones it leaves', () => {
    const plan = planEvacuation({
      ...base,
      snapshot: snapshot(
        [node('pve1'), node('pve2'), node('pve3')],
        [ct(100, 'pve1'), ct(1400, 'pve1', 512), ct(1401, 'pve1', 2048), ct(1402, 'pve2')],
      ),
    });
    expect(plan.moves.map((m) => m.vmid)).toEqual([1401, 1400]);
    expect(plan.moves.every((m) => m.from === 'pve1' && m.to !== 'pve1')).toBe(true);
    expect(plan.remaining).toEqual([1400, 1401]);
    expect(plan.unmanaged).toEqual([{ vmid: 100, name: 'ct-100' }]);
    expect(plan.blocked).toEqual([]);
  });

  it('spreads parallel moves: each planned move reserves its limit on its target first', () => {
    // pve2 and pve3 start equal: the second 4 GiB container goes where the first did not.
    const plan = planEvacuation({
      ...base,
      snapshot: snapshot(
        [node('pve1'), node('pve2'), node('pve3')],
        [ct(1400, 'pve1', 4096), ct(1401, 'pve1', 4096)],
      ),
    });
    expect(plan.moves.map((m) => m.to).sort()).toEqual(['pve2', 'pve3']);
  });

  it('never targets a drained or offline node, and says why a container cannot move', () => {
    const plan = planEvacuation({
      ...base,
      settings: { ...settings, drainedNodes: ['pve2'] },
      snapshot: snapshot(
        [node('pve1'), node('pve2'), node('pve3', 16, { status: 'offline' })],
        [ct(1400, 'pve1')],
      ),
    });
    expect(plan.moves).toEqual([]);
    expect(plan.blocked).toEqual([
      {
        vmid: 1400,
        why: expect.stringMatching(/^no node can take CT 1400: node pve(2 is drained|3 is not online)/),
      },
    ]);
  });

  it('refuses a target without room under the admission share', () => {
    // pve2 uses 14 of 16 GiB: a 2 GiB limit would take it past 90 %.
    const plan = planEvacuation({
      ...base,
      snapshot: snapshot([node('pve1'), node('pve2', 16, { mem: 14 * GiB })], [ct(1400, 'pve1', 2048)]),
    });
    expect(plan.moves).toEqual([]);
    expect(plan.blocked[0]?.why).toMatch(/pve2 would use .* above the 90.0 % admission limit/);
  });

  it('starts no more than the free slots, counts its moves in flight, and leaves skipped containers', () => {
    const inFlight: MigrateAction[] = [{ kind: 'migrate', vmid: 1400, from: 'pve1', to: 'pve2', reason: '' }];
    const plan = planEvacuation({
      ...base,
      inFlight,
      slots: 1,
      skip: [1403],
      snapshot: snapshot(
        [node('pve1'), node('pve2'), node('pve3')],
        [ct(1400, 'pve1'), ct(1401, 'pve1'), ct(1402, 'pve1'), ct(1403, 'pve1', 8192)],
      ),
    });
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]?.vmid).toBe(1401);
    expect(plan.remaining).toEqual([1400, 1401, 1402, 1403]);
  });

  it('keeps to the per-node budget on targets: at most maxPerNode moves into one node at once', () => {
    const plan = planEvacuation({
      ...base,
      settings: { ...settings, maxPerNode: 1 },
      snapshot: snapshot([node('pve1'), node('pve2')], [ct(1400, 'pve1'), ct(1401, 'pve1')]),
    });
    expect(plan.moves).toHaveLength(1);
    expect(plan.blocked).toEqual([
      { vmid: expect.any(Number), why: expect.stringContaining('at most 1 migration(s) into pve2 at once') },
    ]);
  });

  it('leaves a locked container in place and says so', () => {
    const plan = planEvacuation({
      ...base,
      snapshot: snapshot([node('pve1'), node('pve2')], [ct(1400, 'pve1', 512, { lock: 'backup' })]),
    });
    expect(plan.moves).toEqual([]);
    expect(plan.blocked).toEqual([{ vmid: 1400, why: 'CT 1400 is locked (backup)' }]);
  });
});
