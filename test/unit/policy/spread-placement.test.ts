// Placement of a new container with spreading: the open nodes that keep its pool best spread over
// zones, then nodes, and the node weights among those.
import { describe, expect, it } from 'vitest';
import { planProvision, type GeneratorPolicy } from '../../../src/policy';
import { ct, node, snapshot } from './fixtures';

const zones = { 'zone-a': ['a1', 'a2'], 'zone-b': ['b1', 'b2'] };
const base: GeneratorPolicy = {
  scope: { vmidMin: 1400, vmidMax: 1499, pool: 'web' },
  capacityBasis: 'allocated',
  limitPercent: 50,
  nodeWeights: {},
  memoryChoicesMiB: [512],
};
const spread: GeneratorPolicy = { ...base, spread: { pool: 'web', zones } };
const draws = [0, 0.3, 0.6, 0.99];
const nodes = [node('a1', 64), node('a2', 64), node('b1', 64), node('b2', 64)];

function placed(policy: GeneratorPolicy, cts: ReturnType<typeof ct>[], at = nodes): (string | undefined)[] {
  return draws.map((u) => planProvision(snapshot(at, cts), policy, { node: u, memory: 0 })?.node);
}

describe('spread-aware placement', () => {
  it('puts a pool member into the zone the pool does not use yet, whatever the draw', () => {
    const cts = [ct(1400, 'a1', 512, { pool: 'web' }), ct(1401, 'a2', 512, { pool: 'web' })];
    expect(new Set(placed(spread, cts))).toEqual(new Set(['b1', 'b2']));
    // Without spreading the draw decides, and it can land in zone a.
    expect(placed(base, cts)).toContain('a1');
  });

  it('prefers a node of the pool’s zones that holds no member yet, then the emptiest zone', () => {
    const cts = [
      ct(1400, 'a1', 512, { pool: 'web' }),
      ct(1401, 'b1', 512, { pool: 'web' }),
      ct(1402, 'b2', 512, { pool: 'web' }),
    ];
    expect(placed(spread, cts)).toEqual(['a2', 'a2', 'a2', 'a2']);
  });

  it('counts only the pool’s members: other pools and unpooled containers do not steer it', () => {
    const cts = [
      ct(1400, 'b1', 512, { pool: 'mail' }),
      ct(1401, 'b2', 512),
      ct(1402, 'a1', 512, { pool: 'web' }),
    ];
    expect(new Set(placed(spread, cts))).toEqual(new Set(['b1', 'b2']));
  });

  it('falls back to the best node still open when the preferred zone has none open', () => {
    const cts = [ct(1400, 'a1', 512, { pool: 'web' }), ct(1401, 'b1', 40 * 1024, { pool: 'web' })];
    // b2 is offline and b1 is at the generation limit (40 of 64 GiB of web, over 50 %).
    const at = nodes.map((n) => (n.name === 'b2' ? { ...n, status: 'offline' as const } : n));
    expect(placed(spread, cts, at)).toEqual(['a2', 'a2', 'a2', 'a2']);
  });

  it('uses the node weights among equally good nodes and never a node they leave out', () => {
    const weighted: GeneratorPolicy = { ...spread, nodeWeights: { a1: 1, b1: 1, b2: 3 } };
    const cts = [ct(1400, 'a1', 512, { pool: 'web' })];
    // b1 and b2 weigh 1 and 3: a quarter of the draws go to b1; a2 weighs nothing.
    expect(placed(weighted, cts)).toEqual(['b1', 'b2', 'b2', 'b2']);
  });
});
