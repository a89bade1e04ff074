// The affinity section of the config: rules reach the manager's settings and the generator's
// policy; a bad rule is refused with the path of the field and what was expected.
import { describe, expect, it } from 'vitest';
import { ConfigError, coreSettingsOf, generatorPolicyOf, parseConfig } from '../../../src/config';
import { pinProblems } from '../../../src/policy';
import { parseManagerInput } from '../../../workflows/manager/input';

const RULES = `affinity:
  rules:
    - { name: dns-apart, kind: anti-affinity, pool: dns, strict: true }
    - { name: lic, kind: pin, tag: licensed, nodes: [srv-px1] }
`;

function errorOf(yaml: string): string {
  try {
    parseConfig(yaml, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('affinity config', () => {
  it('carries the rules to the manager settings and the generator policy, strict defaulting to false', () => {
    const config = parseConfig(RULES, {});
    const expected = [
      { name: 'dns-apart', kind: 'anti-affinity', pool: 'dns', strict: true },
      { name: 'lic', kind: 'pin', tag: 'licensed', nodes: ['srv-px1'], strict: false },
    ];
    expect(coreSettingsOf(config).affinity).toEqual(expected);
    expect(generatorPolicyOf(config).affinity).toEqual(expected);
    expect(config.affinity).toMatchObject({ enabled: true, automation: 'auto', priority: 90 });
  });

  it('leaves the settings without an affinity key when there are no rules', () => {
    expect('affinity' in coreSettingsOf(parseConfig('', {}))).toBe(false);
  });

  it.each([
    [
      'affinity:\n  rules:\n    - { name: x, kind: pin, pool: p }\n',
      'config error: affinity.rules[0].nodes: expected the list of nodes a pin rule allows, got nothing',
    ],
    [
      'affinity:\n  rules:\n    - { name: x, kind: together, pool: p }\n',
      'config error: affinity.rules[0].kind: expected one of anti-affinity, affinity, pin, got "together"',
    ],
    [
      'affinity:\n  rules:\n    - { name: x, kind: affinity, pool: p, tag: t }\n',
      'config error: affinity.rules[0]: expected exactly one of vmids, pool, tag to select the members (found pool and tag), got a mapping',
    ],
    ['affinity:\n  rules: { name: x }\n', 'affinity.rules: expected a list of affinity rules'],
  ])('rejects %j', (yaml, expected) => {
    expect(errorOf(yaml)).toContain(expected);
  });

  it('is checked again in the manager input, with the field path', () => {
    const settings = { ...coreSettingsOf(parseConfig(RULES, {})) };
    const input = { cluster: 'pve', settings, automation: 'auto', rules: {}, cycleSeconds: 10, seed: 1 };
    expect(parseManagerInput(input).input.settings.affinity).toHaveLength(2);
    const bad = { ...input, settings: { ...settings, affinity: [{ name: 'x', kind: 'pin', pool: 'p' }] } };
    expect(() => parseManagerInput(bad)).toThrow(/settings\.affinity\.0\.nodes/);
  });

  it("names every pin node the cluster lacks, by the rule's path (config validate --online)", () => {
    const { rules } = parseConfig(
      `affinity:
  rules:
    - { name: apart, kind: anti-affinity, pool: dns }
    - { name: lic, kind: pin, tag: licensed, nodes: [srv-px1, srv-px9] }
    - { name: old, kind: pin, pool: legacy, nodes: [srv-old] }
`,
      {},
    ).affinity;
    expect(pinProblems(rules, ['srv-px1', 'srv-px2'])).toEqual([
      {
        path: 'affinity.rules[1].nodes',
        message: "node 'srv-px9' is not in the cluster (it has srv-px1, srv-px2)",
      },
      {
        path: 'affinity.rules[2].nodes',
        message: "node 'srv-old' is not in the cluster (it has srv-px1, srv-px2)",
      },
    ]);
    expect(pinProblems(rules, ['srv-px1', 'srv-px9', 'srv-old'])).toEqual([]);
  });
});
