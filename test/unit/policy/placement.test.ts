import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseNode, isUnder, planProvision, type GeneratorPolicy, type NodeLoad } from '../../../src/policy';
import { GiB, ct, node, snapshot } from './fixtures';

const labWeights = { 'srv-px1': 66, 'srv-px2': 33 };

function load(name: string, percent: number): NodeLoad {
  return { node: name, managedBytes: percent * GiB, maxmem: 100 * GiB, usedBytes: 0 };
}

describe('weighted node choice', () => {
  const open = [load('srv-px1', 1), load('srv-px2', 1)];

  it.each([
    [0, 'srv-px1'],
    [0.66, 'srv-px1'],
    [0.67, 'srv-px2'],
    [0.99, 'srv-px2'],
  ])('with the lab weights 66/33, draw %d picks %s', (u, expected) => {
    expect(chooseNode(open, labWeights, 16, u)).toBe(expected);
  });

  it('skips a node at the generation limit', () => {
    expect(chooseNode([load('srv-px1', 16), load('srv-px2', 3)], labWeights, 16, 0)).toBe('srv-px2');
  });

  it('returns null when every node is full, so the generator backs off', () => {
    expect(chooseNode([load('srv-px1', 16), load('srv-px2', 20)], labWeights, 16, 0.3)).toBeNull();
  });

  it('never places on a node the weights leave out', () => {
    expect(chooseNode([load('other', 0), load('srv-px2', 15)], labWeights, 16, 0)).toBe('srv-px2');
    expect(chooseNode([load('other', 0)], labWeights, 16, 0)).toBeNull();
    expect(chooseNode([load('constructor', 0)], labWeights, 16, 0)).toBeNull();
  });

  it('weighs every node the same when no weights are configured', () => {
    const three = [load('a', 0), load('b', 0), load('c', 0)];
    expect([0.1, 0.4, 0.9].map((u) => chooseNode(three, {}, 16, u))).toEqual(['a', 'b', 'c']);
  });

  it('only ever picks a node under the limit with a positive weight', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.constantFrom('srv-px1', 'srv-px2', 'other'), fc.integer({ min: 0, max: 30 })),
          {
            maxLength: 3,
            selector: ([name]) => name,
          },
        ),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (entries, u) => {
          const loads = entries.map(([name, percent]) => load(name, percent));
          const chosen = chooseNode(loads, labWeights, 16, u);
          if (chosen === null) return true;
          const l = loads.find((x) => x.node === chosen);
          return l !== undefined && isUnder(l.managedBytes, l.maxmem, 16) && chosen !== 'other';
        },
      ),
    );
  });
});

describe('provision plan', () => {
  const policy: GeneratorPolicy = {
    scope: { vmidMin: 1400, vmidMax: 1499 },
    capacityBasis: 'allocated',
    limitPercent: 16,
    nodeWeights: labWeights,
    memoryChoicesMiB: [256, 512, 768],
  };

  it('places a container of a drawn size on a drawn node, with a reason', () => {
    const cluster = snapshot([node('srv-px1', 16), node('srv-px2', 16)], [ct(1400, 'srv-px1', 512)]);
    const action = planProvision(cluster, policy, { node: 0.9, memory: 0.5 });
    expect(action).toMatchObject({ kind: 'provision', node: 'srv-px2', memoryMiB: 512 });
    expect(action?.reason).toContain('16.0 % generation limit');
  });

  it('plans nothing when every node has reached the generation limit', () => {
    // 16 GiB nodes: 6 × 512 MiB = 3 GiB ≈ 18.75 % on each.
    const full = [1400, 1401, 1402, 1403, 1404, 1405].flatMap((vmid) => [
      ct(vmid, 'srv-px1', 512),
      ct(vmid + 50, 'srv-px2', 512),
    ]);
    const cluster = snapshot([node('srv-px1', 16), node('srv-px2', 16)], full);
    expect(planProvision(cluster, policy, { node: 0.1, memory: 0.1 })).toBeNull();
  });
});
