import { describe, expect, it } from 'vitest';
import { actionVmid, dropRule } from '../../../../src/policy';
import { ct, labPolicy, memory, node, runRule, snapshot } from '../fixtures';

// 16 GiB nodes: the 12 % drop threshold is 1966 MiB; three 768 MiB containers make 14.1 %.
const px1 = [
  ct(1400, 'srv-px1', 768, { uptime: 500 }),
  ct(1401, 'srv-px1', 768, { uptime: 900 }),
  ct(1402, 'srv-px1', 768, { uptime: 100 }),
];
const px2 = [
  ct(1452, 'srv-px2', 768, { uptime: 10 }),
  ct(1451, 'srv-px2', 768, { uptime: 300 }),
  ct(1450, 'srv-px2', 768, { uptime: 300 }),
];
const nodes = [node('srv-px1'), node('srv-px2')];

describe('drop rule', () => {
  it('drops the oldest managed container on every node when every node is over the threshold', () => {
    const { actions } = runRule(dropRule, snapshot(nodes, [...px1, ...px2]), labPolicy());
    expect(actions).toEqual([
      {
        kind: 'drop',
        vmid: 1401,
        node: 'srv-px1',
        mode: 'destroy',
        reason:
          'every node is over the 12.0 % drop threshold (srv-px1 14.1 %, srv-px2 14.1 %); destroying the ' +
          'oldest managed container on srv-px1 (14.1 %), CT 1401, up 15 min',
      },
      expect.objectContaining({ vmid: 1450, node: 'srv-px2' }),
    ]);
  });

  it('breaks a tie in uptime by the lowest vmid', () => {
    const { actions } = runRule(dropRule, snapshot(nodes, [...px1, ...px2]), labPolicy());
    expect(actions.map(actionVmid)).toContain(1450);
    expect(actions.map(actionVmid)).not.toContain(1451);
  });

  it('drops nothing while one node is still under the threshold', () => {
    const { actions } = runRule(dropRule, snapshot(nodes, [...px1, ...px2.slice(1)]), labPolicy());
    expect(actions).toEqual([]);
  });

  it('stops instead of destroying when the policy says so, choosing among running containers only', () => {
    const stoppedOldest = px1.map((c) => (c.vmid === 1401 ? { ...c, status: 'stopped' as const } : c));
    const { actions } = runRule(
      dropRule,
      snapshot(nodes, [...stoppedOldest, ...px2]),
      labPolicy({ dropMode: 'stop' }),
    );
    expect(actions).toMatchObject([
      { vmid: 1400, mode: 'stop' },
      { vmid: 1450, mode: 'stop' },
    ]);
  });

  it('passes over a locked, cooling-down or in-flight oldest container to the next oldest', () => {
    const locked = px1.map((c) => (c.vmid === 1401 ? { ...c, lock: 'snapshot' } : c));
    const mem = memory({
      inFlight: [{ kind: 'scale', vmid: 1450, node: 'srv-px2', cores: 2, reason: '' }],
      cooldownUntil: { '1451': memory().now + 1 },
    });
    const { actions } = runRule(dropRule, snapshot(nodes, [...locked, ...px2]), labPolicy(), mem);
    expect(actions.map(actionVmid)).toEqual([1400, 1452]);
  });

  it('notes a node that has nothing it may drop', () => {
    const cluster = snapshot(nodes, [...px1, ...px2.map((c) => ({ ...c, lock: 'backup' }))]);
    const { actions, notes } = runRule(dropRule, cluster, labPolicy());
    expect(actions.map(actionVmid)).toEqual([1401]);
    expect(notes).toEqual([
      expect.stringContaining('srv-px2 has no container that can be dropped') as string,
    ]);
  });

  it('drops nothing in an empty cluster', () => {
    expect(runRule(dropRule, snapshot([], []), labPolicy()).actions).toEqual([]);
  });
});
