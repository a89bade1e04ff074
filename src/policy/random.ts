// Deterministic pseudo-random draws whose whole state is one uint32, so a workflow can carry it
// through continue-as-new as plain JSON and replay exactly the same draws.

export interface Draw {
  /** Uniform in [0, 1). */
  value: number;
  /** The state to pass to the next call. */
  state: number;
}

/** One step of mulberry32: small, fast, and good enough for arrival times and tie-breaking. */
export function nextDraw(state: number): Draw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: next };
}

/** A stateful view over one PRNG state, for code that needs several draws in a row. */
export interface RandomSource {
  next(): number;
  /** The state after the draws taken so far: store it to continue the sequence later. */
  state(): number;
}

export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next() {
      const draw = nextDraw(state);
      state = draw.state;
      return draw.value;
    },
    state: () => state,
  };
}

/** FNV-1a, so a workflow can derive a stable seed from its id without any clock or entropy. */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Brings any number into [0, 1): callers pass draws in, and a bad one (1, NaN) must not turn
 * into an infinite delay or an out-of-range index inside a workflow.
 */
export function clampUnit(u: number): number {
  if (!(u > 0)) return 0;
  if (u >= 1) return 1 - Number.EPSILON / 2;
  return u;
}
