import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRandom,
  exponentialDelay,
  interArrivalSeconds,
  nextInterArrival,
  type ArrivalLaw,
} from '../../../src/policy';

describe('inter-arrival laws', () => {
  it.each<[ArrivalLaw, number, number]>([
    [{ law: 'periodic', periodSeconds: 5 }, 0, 5],
    [{ law: 'periodic', periodSeconds: 5 }, 0.9, 5],
    [{ law: 'uniform', minSeconds: 2, maxSeconds: 8 }, 0, 2],
    [{ law: 'uniform', minSeconds: 2, maxSeconds: 8 }, 0.5, 5],
    [{ law: 'uniform', minSeconds: 2, maxSeconds: 8 }, 0.75, 6.5],
    [{ law: 'uniform', minSeconds: 3, maxSeconds: 3 }, 0.4, 3],
    [{ law: 'exponential', meanSeconds: 5 }, 0, 0],
    [{ law: 'exponential', meanSeconds: 5 }, 0.5, 5 * Math.LN2],
    [{ law: 'exponential', meanSeconds: 5 }, 1 - Math.exp(-1), 5],
  ])('%j with draw %d waits %d s', (law, u, expected) => {
    expect(interArrivalSeconds(law, u)).toBeCloseTo(expected, 9);
  });

  it('keeps the exponential delay finite even for a draw of 1', () => {
    expect(Number.isFinite(exponentialDelay(5, 1))).toBe(true);
  });

  it('keeps uniform delays within [min, max]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 3600, noNaN: true }),
        fc.double({ min: 0, max: 3600, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (a, b, u) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const s = interArrivalSeconds({ law: 'uniform', minSeconds: min, maxSeconds: max }, u);
          return s >= min && s <= max;
        },
      ),
    );
  });

  it('samples exponential delays whose mean over 10,000 draws is within 3 % of the configured mean', () => {
    // With 10,000 draws the sample mean's standard error is 1 % of the mean, so 3 % is a 3-sigma
    // bound: a free-running fast-check seed would fail now and then by design, hence a fixed one.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.double({ min: 0.1, max: 3600, noNaN: true }),
        (seed, mean) => {
          const random = createRandom(seed);
          let sum = 0;
          for (let i = 0; i < 10_000; i++) sum += exponentialDelay(mean, random.next());
          expect(Math.abs(sum / 10_000 - mean) / mean).toBeLessThan(0.03);
        },
      ),
      { numRuns: 30, seed: 20240601 },
    );
  });

  it('carries the PRNG state from one arrival to the next', () => {
    const law: ArrivalLaw = { law: 'exponential', meanSeconds: 5 };
    const first = nextInterArrival(law, 7);
    const again = nextInterArrival(law, 7);
    const second = nextInterArrival(law, first.state);
    expect(again).toEqual(first);
    expect(second.state).not.toBe(first.state);
    expect(second.seconds).not.toBe(first.seconds);
  });
});
