// Zones: the config's shape and the checks that need the cluster's node names.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config';
import { describeZones, zoneIndex, zoneOf, zoneProblems } from '../../../src/domain';

function errorOf(yaml: string): string {
  try {
    parseConfig(yaml, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('zones config', () => {
  it('maps zone names to node lists', () => {
    const config = parseConfig('zones:\n  dc1: [pve1, pve2]\n  dc2: [pve3]\n', {});
    expect(config.zones).toEqual({ dc1: ['pve1', 'pve2'], dc2: ['pve3'] });
    expect(parseConfig('', {}).zones).toEqual({});
  });

  it.each([
    [
      'zones:\n  dc1: [pve1]\n  dc2: [pve1]\n',
      'zones.dc2[0]: expected each node in at most one zone; pve1 is in zone dc1 already',
    ],
    [
      'zones:\n  dc1: [pve1, pve1]\n',
      'zones.dc1[1]: expected each node in at most one zone; pve1 is twice in zone dc1',
    ],
    ['zones:\n  dc1: []\n', 'zones.dc1: expected at least one node name'],
    ['zones:\n  dc1: pve1\n', 'zones.dc1: expected a list of node names'],
    ['zones: [pve1]\n', 'zones: expected a mapping of zone name to a list of node names'],
  ])('rejects %j', (yaml, message) => {
    expect(errorOf(yaml)).toContain(message);
  });
});

describe('zones against the cluster', () => {
  const zones = { dc1: ['pve1', 'pve2'], dc2: ['pve3', 'pve9'] };

  it('errors naming a configured node the cluster lacks, and warns for a node in no zone', () => {
    const { errors, warnings } = zoneProblems(zones, ['pve1', 'pve2', 'pve3', 'pve4']);
    expect(errors).toEqual([
      { path: 'zones.dc2', message: "node 'pve9' is not in the cluster (it has pve1, pve2, pve3, pve4)" },
    ]);
    expect(warnings).toEqual(["node 'pve4' is in no zone; it counts as a zone of its own"]);
  });

  it('has nothing to say when no zones are configured', () => {
    expect(zoneProblems({}, ['pve1'])).toEqual({ errors: [], warnings: [] });
  });

  it('refuses a zone named like a node outside it, which would merge with that node’s own zone', () => {
    const { errors } = zoneProblems({ pve2: ['pve1'] }, ['pve1', 'pve2']);
    expect(errors).toEqual([
      {
        path: 'zones.pve2',
        message: "a zone may not be named like the cluster node 'pve2', which is not in it",
      },
    ]);
  });

  it('gives a node in no zone a zone of its own, and describes the zones for plan', () => {
    const index = zoneIndex(zones);
    expect([zoneOf(index, 'pve2'), zoneOf(index, 'pve4')]).toEqual(['dc1', 'pve4']);
    expect(describeZones(zones, ['pve4', 'pve1', 'pve3'])).toBe('dc1 (pve1), dc2 (pve3); no zone: pve4');
    expect(describeZones({}, ['pve1'])).toBe('none configured: every node is a zone of its own');
  });
});
