// The spread rule in the manager's round: its plan becomes proposals, recommended unless the rule
// is set to auto, with migrations in flight counted where they go and zone typos reported as notes.
import { describe, expect, it } from 'vitest';
import {
  emptyCore,
  spreadConfigSchema,
  spreadRule,
  step,
  type CoreSettings,
  type ManagerCore,
  type RoundInput,
} from '../../../../src/policy';
import { NOW } from '../fixtures';
import { layoutNodes, member, settings as base, snapshotOf } from '../spread-support';

const { nodes, zones } = layoutNodes({ nodesPerZone: [2, 2, 2] });
const settings: CoreSettings = { ...base, zones, maxConcurrent: 8, maxPerNode: 8 };
const dns = [member(1001, 'z0n0', 'dns'), member(1002, 'z0n1', 'dns'), member(1003, 'z1n0', 'dns')];
const web = [1, 2, 3, 4].map((i) => member(1200 + i, 'z2n0', 'web'));

function round(config: Record<string, unknown>, core: ManagerCore = emptyCore(1), s = settings) {
  const input: RoundInput = {
    core,
    settings: s,
    automation: 'auto',
    rules: [{ rule: spreadRule, config: spreadConfigSchema.parse({ enabled: true, ...config }) }],
    snapshot: snapshotOf(nodes, [...dns, ...web]),
    cycle: 1,
    evaluate: true,
    now: NOW,
    outcomes: [],
  };
  return step(input);
}

describe('spread rule', () => {
  it('is off by default and recommends once enabled', () => {
    expect(spreadConfigSchema.parse({})).toMatchObject({
      enabled: false,
      automation: 'recommend',
      priority: 70,
    });
    const result = round({});
    expect(result.commands).toEqual([]);
    const recommended = result.core.decisions.filter((d) => d.status === 'recommended');
    // dns needs one move to zone 2; web (4 on one node of zone 2) needs three, one per other zone's nodes.
    expect(recommended.map((d) => ('vmid' in d.action ? d.action.vmid : 0)).sort()).toEqual([
      1001, 1201, 1202, 1203,
    ]);
    expect(recommended.every((d) => d.rule === 'spread')).toBe(true);
    expect(recommended[0]?.action.reason).toMatch(/^Pool '(dns|web)' uses \d zone\(s\)/);
  });

  it('starts the moves as sagas in auto, and plans nothing more while they are in flight', () => {
    const first = round({ automation: 'auto' });
    expect(first.commands.map((c) => [c.rule, c.action.kind])).toEqual(
      Array.from({ length: 4 }, () => ['spread', 'migrate']),
    );
    // The next round sees the same observation (the moves are under way): nothing new to do.
    const second = round({ automation: 'auto' }, first.core);
    expect(second.commands).toEqual([]);
    expect(second.core.decisions.filter((d) => d.status === 'recommended')).toEqual([]);
  });

  it('leaves out excluded pools', () => {
    const result = round({ automation: 'auto', excludePools: ['web'] });
    expect(result.commands.map((c) => c.action.vmid)).toEqual([1001]);
  });

  it('notes a configured zone node the cluster lacks', () => {
    const typo = { ...settings, zones: { ...zones, 'zone-9': ['ghost'] } };
    const result = round({ automation: 'auto' }, emptyCore(1), typo);
    expect(result.notes).toContain(
      "spread: config error: zones.zone-9: node 'ghost' is not in the cluster (it has z0n0, z0n1, z1n0, z1n1, z2n0, z2n1)",
    );
  });
});
