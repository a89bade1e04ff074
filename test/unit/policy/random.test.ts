import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clampUnit, createRandom, nextDraw, seedFromString } from '../../../src/policy';

/** The published mulberry32 (bryc), to check ours is the real thing and not a look-alike. */
function referenceMulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    let t = (a += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('seeded PRNG', () => {
  it.each([0, 1, 42, 0xdeadbeef, 4294967295])(
    'reproduces the reference mulberry32 sequence for seed %i',
    (seed) => {
      const reference = referenceMulberry32(seed);
      let state = seed;
      for (let i = 0; i < 1000; i++) {
        const draw = nextDraw(state);
        expect(draw.value).toBe(reference());
        state = draw.state;
      }
    },
  );

  it('draws values in [0, 1) for any state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (state) => {
        const { value } = nextDraw(state);
        return value >= 0 && value < 1;
      }),
    );
  });

  it('keeps its state as a plain uint32 that continues the sequence after a JSON round trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 50 }), (seed, split) => {
        const straight = createRandom(seed);
        const expected = Array.from({ length: split + 10 }, () => straight.next());

        const first = createRandom(seed);
        const before = Array.from({ length: split }, () => first.next());
        const carried = JSON.parse(JSON.stringify({ state: first.state() })) as { state: number };
        expect(Number.isInteger(carried.state) && carried.state >= 0 && carried.state <= 0xffffffff).toBe(
          true,
        );
        const second = createRandom(carried.state);
        const after = Array.from({ length: 10 }, () => second.next());
        expect([...before, ...after]).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('derives seeds with FNV-1a, so a workflow id always gives the same seed', () => {
    expect(seedFromString('')).toBe(0x811c9dc5);
    expect(seedFromString('a')).toBe(0xe40c292c);
    expect(seedFromString('foobar')).toBe(0xbf9cf968);
    expect(seedFromString('generator-1')).not.toBe(seedFromString('generator-2'));
  });

  it.each([
    [0, 0],
    [0.25, 0.25],
    [-1, 0],
    [Number.NaN, 0],
    [1, 1 - Number.EPSILON / 2],
    [7, 1 - Number.EPSILON / 2],
  ])('clamps the draw %d into [0, 1) as %d', (u, expected) => {
    expect(clampUnit(u)).toBe(expected);
  });
});
