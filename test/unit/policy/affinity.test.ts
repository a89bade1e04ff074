// Table tests of the affinity rules: membership, the strict check every move passes, the broken
// rules the repair rule sees, the repairs it proposes, and where a new container may go.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/domain';
import {
  affinityPlacement,
  affinityProblem,
  affinityRule,
  affinityRulesSchema,
  affinityViolations,
  applyAction,
  breach,
  isMember,
  projectCluster,
  type AffinityRule,
  type CoreSettings,
  type RuleView,
} from '../../../src/policy';
import { ct, GiB, node, NOW, snapshot } from './fixtures';

function settings(affinity: AffinityRule[]): CoreSettings {
  return {
    scope: { vmidMin: 1400, vmidMax: 1499 },
    capacityBasis: 'allocated',
    admissionShare: 0.9,
    cpuShare: 0.9,
    maxConcurrent: 8,
    maxPerNode: 4,
    maxPerKind: {},
    cooldownMs: 60_000,
    drainedNodes: [],
    affinity,
  };
}

const rule = (r: Partial<AffinityRule> & Pick<AffinityRule, 'kind'>): AffinityRule => ({
  name: 'r',
  strict: true,
  ...r,
});

const move = (vmid: number, from: string, to: string): Action => ({
  kind: 'migrate',
  vmid,
  from,
  to,
  reason: 't',
});

describe('isMember', () => {
  it.each([
    ['vmids', rule({ kind: 'affinity', vmids: [1400, 1401] }), { vmid: 1401, tags: [] }, true],
    ['vmids, another vmid', rule({ kind: 'affinity', vmids: [1400, 1401] }), { vmid: 1402, tags: [] }, false],
    ['vmids, a new container has none', rule({ kind: 'affinity', vmids: [1400, 1401] }), { tags: [] }, false],
    ['pool', rule({ kind: 'anti-affinity', pool: 'dns' }), { vmid: 1, pool: 'dns', tags: [] }, true],
    ['pool, another pool', rule({ kind: 'anti-affinity', pool: 'dns' }), { pool: 'web', tags: [] }, false],
    ['tag', rule({ kind: 'pin', tag: 'licensed', nodes: ['a'] }), { tags: ['x', 'licensed'] }, true],
    [
      'tag, a template never',
      rule({ kind: 'pin', tag: 't', nodes: ['a'] }),
      { tags: ['t'], template: true },
      false,
    ],
  ])('%s', (_what, r, facts, expected) => {
    expect(isMember(r, facts)).toBe(expected);
  });
});

describe('breach', () => {
  const others = [
    { vmid: 2, node: 'b' },
    { vmid: 3, node: 'c' },
  ];
  it.each([
    ['pin to an allowed node', rule({ kind: 'pin', nodes: ['a', 'b'] }), 'b', 'c', [], undefined],
    ['pin to another node', rule({ kind: 'pin', nodes: ['a', 'b'] }), 'c', 'a', [], 'allowed only on a, b'],
    ['anti-affinity to a free node', rule({ kind: 'anti-affinity' }), 'a', 'b', others, undefined],
    [
      'anti-affinity onto a member',
      rule({ kind: 'anti-affinity' }),
      'c',
      'a',
      others,
      'would share c with CT 3',
    ],
    ['affinity, nobody else', rule({ kind: 'affinity' }), 'z', 'a', [], undefined],
    [
      'affinity, joining the group',
      rule({ kind: 'affinity' }),
      'b',
      'a',
      [{ vmid: 2, node: 'b' }],
      undefined,
    ],
    [
      'affinity, leaving the group',
      rule({ kind: 'affinity' }),
      'c',
      'b',
      [{ vmid: 2, node: 'b' }],
      'would be apart from CT 2 on b',
    ],
    ['affinity, a split group, to one of its nodes', rule({ kind: 'affinity' }), 'c', 'a', others, undefined],
    [
      'affinity, a new member, to the group',
      rule({ kind: 'affinity' }),
      'b',
      undefined,
      [{ vmid: 2, node: 'b' }],
      undefined,
    ],
    [
      'affinity, a new member, elsewhere',
      rule({ kind: 'affinity' }),
      'a',
      undefined,
      [{ vmid: 2, node: 'b' }],
      'would be apart from CT 2 on b',
    ],
  ])('%s', (_what, r, to, from, o, expected) => {
    expect(breach(r, to, from, o)).toBe(expected);
  });
});

describe('affinityProblem in the projection', () => {
  const snap = snapshot(
    [node('a'), node('b'), node('c')],
    [ct(1400, 'a'), ct(1401, 'b'), ct(1402, 'c'), ct(1403, 'a', 512, { tags: ['lic'] })],
  );

  it('refuses a move onto a strict anti-affine member, and names the rule', () => {
    const cluster = projectCluster(
      snap,
      settings([rule({ name: 'apart', kind: 'anti-affinity', vmids: [1400, 1401] })]),
      [],
    );
    expect(affinityProblem(move(1400, 'a', 'b'), cluster)).toBe(
      "CT 1400 would share b with CT 1401, against the strict anti-affinity rule 'apart'",
    );
    expect(affinityProblem(move(1400, 'a', 'c'), cluster)).toBeUndefined();
  });

  it('lets a preferred rule be broken: only the repair rule cares', () => {
    const cluster = projectCluster(
      snap,
      settings([rule({ kind: 'anti-affinity', vmids: [1400, 1401], strict: false })]),
      [],
    );
    expect(affinityProblem(move(1400, 'a', 'b'), cluster)).toBeUndefined();
  });

  it('sees where moves in flight and accepted put the members', () => {
    const s = settings([rule({ kind: 'anti-affinity', vmids: [1400, 1401, 1402] })]);
    // 1401 is on its way from b to c: b is free, c is taken.
    const cluster = projectCluster(snap, s, [move(1401, 'b', 'c')]);
    expect(affinityProblem(move(1400, 'a', 'b'), cluster)).toBeUndefined();
    expect(affinityProblem(move(1400, 'a', 'c'), cluster)).toMatch(/would share c with CT 140[12]/);
    applyAction(cluster, move(1400, 'a', 'b'));
    expect(affinityProblem(move(1402, 'c', 'b'), cluster)).toMatch(/would share b with CT 1400/);
  });

  it('forgets a destroyed member', () => {
    const s = settings([rule({ kind: 'anti-affinity', vmids: [1400, 1401] })]);
    const cluster = projectCluster(snap, s, [
      { kind: 'drop', vmid: 1401, node: 'b', mode: 'destroy', reason: 't' },
    ]);
    expect(affinityProblem(move(1400, 'a', 'b'), cluster)).toBeUndefined();
  });

  it('refuses a strict pin member off its nodes, through admissionProblem as every rule sees it', async () => {
    const { admissionProblem } = await import('../../../src/policy');
    const cluster = projectCluster(
      snap,
      settings([rule({ name: 'lic', kind: 'pin', tag: 'lic', nodes: ['a', 'b'] })]),
      [],
    );
    expect(admissionProblem(cluster, move(1403, 'a', 'c'))).toBe(
      "CT 1403 allowed only on a, b, against the strict pin rule 'lic'",
    );
    expect(admissionProblem(cluster, move(1403, 'a', 'b'))).toBeNull();
    // Scales and drops place nothing.
    expect(
      affinityProblem({ kind: 'scale', vmid: 1403, node: 'a', cores: 2, reason: 't' }, cluster),
    ).toBeUndefined();
  });

  it('has nothing to check without rules', () => {
    const cluster = projectCluster(snap, settings([]), []);
    expect(cluster.affinity).toBeUndefined();
    expect(affinityProblem(move(1400, 'a', 'b'), cluster)).toBeUndefined();
  });
});

describe('affinityViolations', () => {
  it.each([
    [
      'anti-affinity: all but one of a shared node, the lowest vmid stays',
      rule({ kind: 'anti-affinity', vmids: [1400, 1401, 1402] }),
      [ct(1400, 'a'), ct(1401, 'a'), ct(1402, 'a')],
      () => true,
      [1401, 1402],
    ],
    [
      'anti-affinity: the member that cannot move stays',
      rule({ kind: 'anti-affinity', vmids: [1400, 1401] }),
      [ct(1400, 'a'), ct(1401, 'a')],
      (vmid: number) => vmid !== 1401,
      [1400],
    ],
    [
      'affinity: the members off the node most share',
      rule({ kind: 'affinity', tag: 'db' }),
      [
        ct(1400, 'a', 512, { tags: ['db'] }),
        ct(1401, 'b', 512, { tags: ['db'] }),
        ct(1402, 'b', 512, { tags: ['db'] }),
      ],
      () => true,
      [1400],
    ],
    [
      'affinity: a member that cannot move decides the home',
      rule({ kind: 'affinity', tag: 'db' }),
      [
        ct(1400, 'a', 512, { tags: ['db'] }),
        ct(1401, 'b', 512, { tags: ['db'] }),
        ct(1402, 'b', 512, { tags: ['db'] }),
      ],
      (vmid: number) => vmid !== 1400,
      [1401, 1402],
    ],
    [
      'pin: each member off its nodes',
      rule({ kind: 'pin', pool: 'p', nodes: ['b'] }),
      [ct(1400, 'a', 512, { pool: 'p' }), ct(1401, 'b', 512, { pool: 'p' }), ct(1402, 'a')],
      () => true,
      [1400],
    ],
    [
      'a rule that holds',
      rule({ kind: 'anti-affinity', vmids: [1400, 1401] }),
      [ct(1400, 'a'), ct(1401, 'b')],
      () => true,
      [],
    ],
  ])('%s', (_what, r, containers, movable, expected) => {
    const cluster = projectCluster(snapshot([node('a'), node('b')], containers), settings([r]), []);
    const misplaced = affinityViolations(cluster, movable).flatMap((v) => v.misplaced.map((m) => m.vmid));
    expect(misplaced).toEqual(expected);
  });
});

describe('the affinity rule', () => {
  function run(nodes: ReturnType<typeof node>[], containers: ReturnType<typeof ct>[], rules: AffinityRule[]) {
    const snap = snapshot(nodes, containers);
    const view: RuleView = {
      snapshot: snap,
      settings: settings(rules),
      now: NOW,
      loads: [],
      actionable: containers.filter((c) => c.vmid >= 1400),
      inFlight: [],
      random: () => 0,
    };
    return affinityRule.evaluate(view, affinityRule.config.parse({}), null);
  }

  it('moves a pinned container to the allowed node with most free memory', () => {
    const result = run(
      [node('a'), node('b', 16, { mem: 8 * GiB }), node('c', 16, { mem: 1 * GiB })],
      [ct(1400, 'a', 512, { tags: ['lic'] })],
      [rule({ name: 'lic', kind: 'pin', tag: 'lic', nodes: ['b', 'c'], strict: false })],
    );
    expect(result.proposals.map((p) => p.action)).toEqual([
      {
        kind: 'migrate',
        vmid: 1400,
        from: 'a',
        to: 'c',
        reason: "CT 1400 is on a, not one of b, c, against the preferred pin rule 'lic'; c keeps the rule",
      },
    ]);
  });

  it('spreads anti-affine members one per node, and says why the last cannot go anywhere', () => {
    const result = run(
      [node('a'), node('b')],
      [ct(1400, 'a'), ct(1401, 'a'), ct(1402, 'a')],
      [rule({ name: 'apart', kind: 'anti-affinity', vmids: [1400, 1401, 1402] })],
    );
    expect(
      result.proposals.map((p) => [
        p.action.kind === 'migrate' && p.action.vmid,
        p.action.kind === 'migrate' && p.action.to,
      ]),
    ).toEqual([[1401, 'b']]);
    expect(result.notes).toEqual([
      "CT 1402 shares a with CT 1400 (strict anti-affinity rule 'apart'); no repair: no node satisfies the rule",
    ]);
  });

  it('gathers a split affinity group where most of it is, within admission', () => {
    const result = run(
      [node('a'), node('b', 16, { mem: 14.2 * GiB })],
      [
        ct(1400, 'a', 512, { tags: ['db'] }),
        ct(1401, 'b', 512, { tags: ['db'] }),
        ct(1402, 'b', 512, { tags: ['db'] }),
      ],
      [rule({ name: 'db', kind: 'affinity', tag: 'db' })],
    );
    // b has most of the group but no room for 512 MiB more under the 90 % admission share.
    expect(result.proposals).toEqual([]);
    expect(result.notes[0]).toMatch(/^CT 1400 is on a, apart from the members on b .*no repair: b would use/);
  });

  it('repairs no rule at the cost of another of the container, preferred ones included', () => {
    const result = run(
      [node('a'), node('b')],
      [ct(1400, 'a', 512, { tags: ['lic'] }), ct(1401, 'b', 512, { tags: ['lic'] })],
      [
        rule({ name: 'lic', kind: 'pin', tag: 'lic', nodes: ['b'], strict: false }),
        rule({ name: 'apart', kind: 'anti-affinity', tag: 'lic', strict: false }),
      ],
    );
    // Moving 1400 to b keeps the pin but breaks the anti-affinity, which holds now.
    expect(result.proposals).toEqual([]);
    expect(result.notes).toEqual([
      "CT 1400 is on a, not one of b (preferred pin rule 'lic'); no repair: CT 1400 would share b with CT 1401, against the preferred anti-affinity rule 'apart'",
    ]);
  });

  it('does nothing without rules', () => {
    expect(run([node('a')], [ct(1400, 'a')], [])).toEqual({ proposals: [], state: null, notes: [] });
  });
});

describe('affinityPlacement of a new container', () => {
  const containers = [ct(1400, 'a', 512, { pool: 'dns' }), ct(1401, 'b', 512, { pool: 'dns' })];
  it.each([
    ['strict anti-affinity keeps it off members', [rule({ kind: 'anti-affinity', pool: 'dns' })], ['c']],
    ['strict affinity puts it with the group', [rule({ kind: 'affinity', pool: 'dns' })], ['a', 'b']],
    ['strict pin', [rule({ kind: 'pin', pool: 'dns', nodes: ['b'] })], ['b']],
    [
      'preferred narrows while it can',
      [
        rule({ kind: 'pin', pool: 'dns', nodes: ['a', 'b'] }),
        rule({ name: 'p', kind: 'anti-affinity', pool: 'dns', strict: false }),
      ],
      ['a', 'b'],
    ],
    [
      'preferred narrows to what strict leaves',
      [
        rule({ kind: 'pin', pool: 'dns', nodes: ['b', 'c'] }),
        rule({ name: 'p', kind: 'anti-affinity', pool: 'dns', strict: false }),
      ],
      ['c'],
    ],
    ['a rule it is not a member of', [rule({ kind: 'pin', pool: 'web', nodes: ['a'] })], ['a', 'b', 'c']],
  ])('%s', (_what, rules, expected) => {
    const { nodes } = affinityPlacement({ rules, containers }, { pool: 'dns', tags: [] }, ['a', 'b', 'c']);
    expect(nodes).toEqual(expected);
  });
});

describe('affinity config', () => {
  const problems = (rules: unknown): string[] => {
    const r = affinityRulesSchema.safeParse(rules);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(rule)'}: ${i.message}`);
  };

  it('accepts each kind, strict defaulting to preferred', () => {
    const parsed = affinityRulesSchema.parse([
      { name: 'a', kind: 'anti-affinity', pool: 'dns' },
      { name: 'b', kind: 'affinity', vmids: [1400, 1401], strict: true },
      { name: 'c', kind: 'pin', tag: 'lic', nodes: ['pve1'] },
    ]);
    expect(parsed.map((r) => r.strict)).toEqual([false, true, false]);
  });

  it.each([
    [
      [{ name: 'a', kind: 'affinity' }],
      '0: expected exactly one of vmids, pool, tag to select the members (found none)',
    ],
    [
      [{ name: 'a', kind: 'affinity', pool: 'p', tag: 't' }],
      '0: expected exactly one of vmids, pool, tag to select the members (found pool and tag)',
    ],
    [[{ name: 'a', kind: 'pin', pool: 'p' }], '0.nodes: expected the list of nodes a pin rule allows'],
    [
      [{ name: 'a', kind: 'affinity', pool: 'p', nodes: ['x'] }],
      '0.nodes: expected no nodes: only a pin rule has them, this one is affinity',
    ],
    [
      [{ name: 'a', kind: 'anti-affinity', vmids: [1400] }],
      '0.vmids: expected at least two vmids for anti-affinity (a rule between members)',
    ],
    [[{ name: 'a', kind: 'anti-affinity', vmids: [1400, 1400] }], '0.vmids: expected each vmid once'],
    [[{ name: 'a', kind: 'apart', pool: 'p' }], '0.kind: expected one of anti-affinity, affinity, pin'],
    [
      [{ name: 'a', kind: 'pin', pool: 'p', nodes: ['x'], strict: 'yes' }],
      '0.strict: expected true or false',
    ],
    [
      [
        { name: 'a', kind: 'pin', pool: 'p', nodes: ['x'] },
        { name: 'a', kind: 'pin', pool: 'q', nodes: ['x'] },
      ],
      '1.name: expected a name no other rule has',
    ],
  ])('rejects %j', (rules, expected) => {
    expect(problems(rules)).toEqual([expected]);
  });
});

describe('planProvision with affinity rules', () => {
  it('draws only among the nodes the strict rules leave for the scope pool', async () => {
    const { planProvision } = await import('../../../src/policy');
    const snap = snapshot([node('a'), node('b'), node('c')], [ct(1400, 'a', 512, { pool: 'dns' })]);
    const policy = {
      scope: { vmidMin: 1400, vmidMax: 1499, pool: 'dns' },
      capacityBasis: 'allocated' as const,
      limitPercent: 50,
      nodeWeights: {},
      memoryChoicesMiB: [256],
      affinity: [
        rule({ kind: 'anti-affinity', pool: 'dns' }),
        rule({ name: 'p', kind: 'pin', pool: 'dns', nodes: ['a', 'b'] }),
      ],
    };
    // Every draw lands on b: a holds a member, c is not allowed.
    for (const u of [0, 0.3, 0.6, 0.99]) {
      expect(planProvision(snap, policy, { node: u, memory: 0 })?.node).toBe('b');
    }
    const full = { ...policy, affinity: [rule({ kind: 'pin', pool: 'dns', nodes: ['x'] })] };
    expect(planProvision(snap, full, { node: 0, memory: 0 })).toBeNull();
  });
});
