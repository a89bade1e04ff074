import { describe, expect, it } from 'vitest';
import { migrateRule } from '../../../../src/policy';
import { GiB, MiB, NOW, ct, labPolicy, memory, node, runRule, snapshot } from '../fixtures';

// 16 GiB nodes: the 8 % migrate threshold is 1310.72 MiB of managed containers.
const overloaded = [ct(1400, 'srv-px1', 512), ct(1401, 'srv-px1', 768), ct(1402, 'srv-px1', 256)]; // 1536 MiB, 9.4 %

describe('migrate rule', () => {
  it('moves the container that evens the load best from a node over the threshold (best-fit)', () => {
    const cluster = snapshot([node('srv-px1'), node('srv-px2')], [...overloaded, ct(1450, 'srv-px2', 512)]);
    const { actions } = runRule(migrateRule, cluster, labPolicy());
    expect(actions).toEqual([
      {
        kind: 'migrate',
        vmid: 1400,
        from: 'srv-px1',
        to: 'srv-px2',
        reason: expect.stringContaining('srv-px1 9.4 % → 6.3 %, srv-px2 3.1 % → 6.3 %') as string,
      },
    ]);
  });

  it.each([
    [0, 1400],
    [0.5, 1401],
    [0.99, 1402],
  ])('with the random choice, draw %d picks CT %i, as the lab did', (u, vmid) => {
    const cluster = snapshot([node('srv-px1'), node('srv-px2')], [...overloaded, ct(1450, 'srv-px2', 512)]);
    const { actions } = runRule(migrateRule, cluster, labPolicy({ migrateChoice: 'random' }), memory(), [u]);
    expect(actions).toMatchObject([{ kind: 'migrate', vmid, from: 'srv-px1', to: 'srv-px2' }]);
  });

  it('sends a randomly chosen container to the least loaded node it fits on', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2'), node('srv-px3')],
      [...overloaded, ct(1450, 'srv-px2', 512), ct(1460, 'srv-px3', 256)],
    );
    const { actions } = runRule(
      migrateRule,
      cluster,
      labPolicy({ migrateChoice: 'random' }),
      memory(),
      [0.5],
    );
    expect(actions).toMatchObject([{ vmid: 1401, to: 'srv-px3' }]);
  });

  it('never picks a container that would push the target over the threshold', () => {
    // srv-px2 holds 1024 MiB: only the 256 MiB container still fits under 1310 MiB.
    const cluster = snapshot([node('srv-px1'), node('srv-px2')], [...overloaded, ct(1450, 'srv-px2', 1024)]);
    for (const u of [0, 0.5, 0.99]) {
      const random = runRule(migrateRule, cluster, labPolicy({ migrateChoice: 'random' }), memory(), [u]);
      expect(random.actions).toMatchObject([{ vmid: 1402 }]);
    }
    expect(runRule(migrateRule, cluster, labPolicy()).actions).toMatchObject([{ vmid: 1402 }]);
  });

  it('does nothing, and says why, when no container fits on any node under the threshold', () => {
    const cluster = snapshot([node('srv-px1'), node('srv-px2')], [...overloaded, ct(1450, 'srv-px2', 1200)]);
    const { actions, notes } = runRule(migrateRule, cluster, labPolicy());
    expect(actions).toEqual([]);
    expect(notes).toEqual([
      'srv-px1 9.4 % is over the 8.0 % migrate threshold, but none of its containers fits on a node under it',
    ]);
  });

  it('does nothing, and says why, when every node is over the threshold', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2')],
      [...overloaded, ct(1450, 'srv-px2', 1024), ct(1451, 'srv-px2', 512)],
    );
    const { actions, notes } = runRule(migrateRule, cluster, labPolicy());
    expect(actions).toEqual([]);
    expect(notes).toEqual([
      'srv-px1 9.4 % is over the 8.0 % migrate threshold, but no node is under it',
      'srv-px2 9.4 % is over the 8.0 % migrate threshold, but no node is under it',
    ]);
  });

  it('does nothing while every node is at or under the threshold', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2')],
      [ct(1400, 'srv-px1', 768), ct(1401, 'srv-px1', 512)],
    );
    expect(runRule(migrateRule, cluster, labPolicy())).toEqual({ actions: [], notes: [] });
  });

  it('respects the admission share of the target node memory', () => {
    // srv-px2 already uses 90 % of 16 GiB less 300 MiB: only the 256 MiB container is admitted.
    const busy = node('srv-px2', 16, { mem: 0.9 * 16 * GiB - 300 * MiB });
    const cluster = snapshot([node('srv-px1'), busy], [...overloaded, ct(1450, 'srv-px2', 512)]);
    expect(runRule(migrateRule, cluster, labPolicy()).actions).toMatchObject([{ vmid: 1402 }]);
    const none = runRule(migrateRule, cluster, labPolicy({ admissionShare: 0.5 }));
    expect(none.actions).toEqual([]);
  });

  it('leaves locked, cooling-down, in-flight and unmanaged containers where they are', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2')],
      [
        ct(1399, 'srv-px1', 512),
        ct(1400, 'srv-px1', 512, { lock: 'backup' }),
        ct(1401, 'srv-px1', 512),
        ct(1402, 'srv-px1', 512),
        ct(1403, 'srv-px1', 256),
        ct(1404, 'srv-px1', 256, { template: true }),
      ],
    );
    const mem = memory({
      cooldownUntil: { '1401': NOW + 1000 },
      inFlight: [{ kind: 'scale', vmid: 1403, node: 'srv-px1', cores: 2, reason: '' }],
    });
    expect(runRule(migrateRule, cluster, labPolicy(), mem).actions).toMatchObject([{ vmid: 1402 }]);
  });

  it('counts a migration in flight on its target before sending it another container', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2'), node('srv-px3', 64)],
      [...overloaded, ct(1450, 'srv-px2', 512), ct(1460, 'srv-px3', 768)],
    );
    const mem = memory({
      inFlight: [{ kind: 'migrate', vmid: 1460, from: 'srv-px3', to: 'srv-px2', reason: '' }],
    });
    // srv-px2 will hold 1280 MiB once 1460 lands: nothing more fits, and srv-px3 is the only target.
    const { actions } = runRule(migrateRule, cluster, labPolicy(), mem);
    expect(actions).toMatchObject([{ to: 'srv-px3' }]);
  });

  it('counts its own earlier moves when a second node sheds to the same target', () => {
    const cluster = snapshot(
      [node('srv-px1'), node('srv-px2'), node('srv-px3')],
      [
        ...overloaded,
        ct(1450, 'srv-px2', 512),
        ct(1460, 'srv-px3', 512),
        ct(1461, 'srv-px3', 768),
        ct(1462, 'srv-px3', 256),
      ],
    );
    const { actions } = runRule(migrateRule, cluster, labPolicy());
    // After 1400 (512 MiB) lands, srv-px2 holds 1024 MiB: only a 256 MiB container still fits.
    // srv-px1, now under the threshold too, takes nothing: it was shedding in this very cycle.
    expect(actions).toMatchObject([
      { vmid: 1400, from: 'srv-px1', to: 'srv-px2' },
      { vmid: 1462, from: 'srv-px3', to: 'srv-px2' },
    ]);
  });

  it('does not move a stopped container on the used basis, since it frees nothing', () => {
    const cluster = snapshot(
      [node('srv-px1', 8), node('srv-px2', 8)],
      [
        ct(1400, 'srv-px1', 768, { status: 'stopped', mem: 0 }),
        ct(1401, 'srv-px1', 512, { mem: 400 * MiB }),
        ct(1402, 'srv-px1', 512, { mem: 300 * MiB }),
      ],
    );
    for (const migrateChoice of ['best-fit', 'random'] as const) {
      const policy = labPolicy({ capacityBasis: 'used', migrateChoice });
      const { actions } = runRule(migrateRule, cluster, policy, memory(), [0]);
      expect(actions).toMatchObject([{ vmid: 1401, to: 'srv-px2' }]);
    }
  });
});
