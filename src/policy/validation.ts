// Checks of values that reach a running workflow through an update (arrival laws, thresholds) or
// its input, shared by the workflows' validators and any client, so both reject with one message.

import type { ArrivalLaw } from './arrivals';

/** Caps a delay at a day: a typo such as 36000000 must not park the generator for a year. */
const MAX_SECONDS = 86_400;

/** null when the law is usable, else a message naming the field and the expected value. */
export function arrivalLawProblem(law: unknown): string | null {
  if (typeof law !== 'object' || law === null) return 'arrival: expected an object with a law field';
  const l = law as Record<string, unknown>;
  switch (l.law) {
    case 'periodic':
      return secondsProblem('periodSeconds', l.periodSeconds, false);
    case 'exponential':
      return secondsProblem('meanSeconds', l.meanSeconds, false);
    case 'uniform': {
      const problem =
        secondsProblem('minSeconds', l.minSeconds, true) ?? secondsProblem('maxSeconds', l.maxSeconds, false);
      if (problem) return problem;
      if ((l.maxSeconds as number) < (l.minSeconds as number)) {
        return `maxSeconds: expected at least minSeconds (${String(l.minSeconds)}), got ${String(l.maxSeconds)}`;
      }
      return null;
    }
    default:
      return `law: expected one of periodic, uniform, exponential, got ${JSON.stringify(l.law)}`;
  }
}

export function isArrivalLaw(law: unknown): law is ArrivalLaw {
  return arrivalLawProblem(law) === null;
}

function secondsProblem(field: string, value: unknown, zeroAllowed: boolean): string | null {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (zeroAllowed ? value >= 0 : value > 0) &&
    value <= MAX_SECONDS;
  if (ok) return null;
  const low = zeroAllowed ? '>= 0' : '> 0';
  return `${field}: expected a number of seconds ${low} and <= ${MAX_SECONDS}, got ${JSON.stringify(value)}`;
}

export interface Thresholds {
  migratePercent: number;
  dropPercent: number;
}

/**
 * Checks `change` applied over `current`: 0 < migratePercent <= dropPercent <= 100. null when the
 * result is valid.
 */
export function thresholdsProblem(current: Thresholds, change: Partial<Thresholds>): string | null {
  if (typeof change !== 'object' || change === null) return 'thresholds: expected an object';
  const { migratePercent, dropPercent } = change;
  if (migratePercent === undefined && dropPercent === undefined) {
    return 'thresholds: expected migratePercent, dropPercent or both';
  }
  for (const [field, value] of [
    ['migratePercent', migratePercent],
    ['dropPercent', dropPercent],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 100) {
      return `${field}: expected a number > 0 and <= 100, got ${JSON.stringify(value)}`;
    }
  }
  const migrate = migratePercent ?? current.migratePercent;
  const drop = dropPercent ?? current.dropPercent;
  if (migrate > drop) {
    return dropPercent === undefined
      ? `migratePercent: expected at most dropPercent (${drop}), got ${migrate}`
      : `dropPercent: expected at least migratePercent (${migrate}), got ${drop}`;
  }
  return null;
}
