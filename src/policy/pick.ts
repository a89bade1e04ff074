// Choosing one element from a list with a uniform draw u in [0, 1), uniformly or by weight.

import { clampUnit } from './random';

/** Index chosen with probability weight / total; -1 when no weight is positive. */
export function pickWeightedIndex(weights: readonly number[], u: number): number {
  const positive = weights.map((w) => (Number.isFinite(w) && w > 0 ? w : 0));
  const total = positive.reduce((sum, w) => sum + w, 0);
  if (total <= 0) return -1;
  const target = clampUnit(u) * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < positive.length; i++) {
    const weight = positive[i] ?? 0;
    if (weight === 0) continue;
    cumulative += weight;
    last = i;
    if (target < cumulative) return i;
  }
  // Rounding can leave target a hair above the final sum: that draw belongs to the last element.
  return last;
}

export function pickUniform<T>(items: readonly T[], u: number): T | undefined {
  if (items.length === 0) return undefined;
  return items[Math.min(items.length - 1, Math.floor(clampUnit(u) * items.length))];
}
