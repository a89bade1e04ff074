// When the generator creates the next container: inter-arrival laws, each a function of one
// uniform draw u in [0, 1), so the generator workflow stays deterministic on replay.

import { nextDraw, clampUnit } from './random';

export type ArrivalLaw =
  | { law: 'periodic'; periodSeconds: number }
  | { law: 'uniform'; minSeconds: number; maxSeconds: number }
  | { law: 'exponential'; meanSeconds: number };

export type ArrivalLawName = ArrivalLaw['law'];

export function periodicDelay(periodSeconds: number): number {
  return periodSeconds;
}

export function uniformDelay(minSeconds: number, maxSeconds: number, u: number): number {
  return minSeconds + (maxSeconds - minSeconds) * clampUnit(u);
}

/** Inverse-CDF sampling; 1 - u keeps the argument of the logarithm in (0, 1]. */
export function exponentialDelay(meanSeconds: number, u: number): number {
  return -meanSeconds * Math.log(1 - clampUnit(u));
}

export function interArrivalSeconds(law: ArrivalLaw, u: number): number {
  switch (law.law) {
    case 'periodic':
      return periodicDelay(law.periodSeconds);
    case 'uniform':
      return uniformDelay(law.minSeconds, law.maxSeconds, u);
    case 'exponential':
      return exponentialDelay(law.meanSeconds, u);
  }
}

/** The next delay and the PRNG state to carry to the following arrival. */
export function nextInterArrival(law: ArrivalLaw, state: number): { seconds: number; state: number } {
  const draw = nextDraw(state);
  return { seconds: interArrivalSeconds(law, draw.value), state: draw.state };
}
