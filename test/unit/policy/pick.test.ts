import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickUniform, pickWeightedIndex } from '../../../src/policy';

describe('weighted pick', () => {
  it.each([
    [[66, 33], 0, 0],
    [[66, 33], 0.66, 0],
    [[66, 33], 0.67, 1],
    [[66, 33], 0.999, 1],
    [[0, 5, 5], 0, 1],
    [[0, 5, 5], 0.5, 2],
    [[3, 0], 0.99, 0],
    [[1, 1, 1, 1], 0.74, 2],
  ])('weights %j with draw %d pick index %i', (weights, u, expected) => {
    expect(pickWeightedIndex(weights, u)).toBe(expected);
  });

  it.each([[[]], [[0, 0]], [[-1, 0]], [[Number.NaN]]])(
    'returns -1 when no weight in %j is positive',
    (weights) => {
      expect(pickWeightedIndex(weights, 0.5)).toBe(-1);
    },
  );

  it('never picks an element whose weight is zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (weights, u) => {
          const index = pickWeightedIndex(weights, u);
          if (weights.every((w) => w === 0)) return index === -1;
          return (weights[index] ?? 0) > 0;
        },
      ),
    );
  });
});

describe('uniform pick', () => {
  it.each([
    [0, 256],
    [0.34, 512],
    [0.99, 768],
    [1, 768],
  ])('with draw %d picks %i from 256/512/768', (u, expected) => {
    expect(pickUniform([256, 512, 768], u)).toBe(expected);
  });

  it('returns undefined for an empty list', () => {
    expect(pickUniform([], 0.5)).toBeUndefined();
  });
});
