// A drained node in the manager's round: the lab rule sends nothing to it and takes nothing off it
// (its drain does that), and the round's view leaves it out of the loads.
import { describe, expect, it } from 'vitest';
import { emptyCore, labRule, step, type CoreSettings, type RoundInput } from '../../../src/policy';
import { ct, node, NOW, snapshot } from './fixtures';

const settings: CoreSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 4,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

const lab = labRule.config.parse({ migratePercent: 8, dropPercent: 50 });

function round(drainedNodes: string[]): RoundInput {
  // pve1 holds 3 GiB of 16 in managed CTs (19 %, over 8 %); pve2 and pve3 hold none.
  return {
    core: emptyCore(1),
    settings: { ...settings, drainedNodes },
    automation: 'auto',
    rules: [{ rule: labRule, config: lab }],
    snapshot: snapshot(
      [node('pve1'), node('pve2'), node('pve3')],
      [ct(1400, 'pve1', 1024), ct(1401, 'pve1', 1024), ct(1402, 'pve1', 1024)],
    ),
    cycle: 1,
    evaluate: true,
    now: NOW,
    outcomes: [],
  };
}

describe('a drained node in the round', () => {
  it('takes no container from a rule', () => {
    const free = step(round([])).commands.map((c) => c.action);
    expect(free.some((a) => a.kind === 'migrate' && a.to === 'pve2')).toBe(true);
    const drained = step(round(['pve2'])).commands.map((c) => c.action);
    expect(drained.length).toBeGreaterThan(0);
    expect(drained.every((a) => a.kind === 'migrate' && a.to === 'pve3')).toBe(true);
  });

  it('gives no container to a rule: its containers are left to its drain', () => {
    expect(step(round(['pve1'])).commands).toEqual([]);
  });
});
