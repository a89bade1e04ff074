// The balance rule's memory: a short CPU window per node (CPU is noisy from one 10 s sample to the
// next; memory is not, and is what moves), how many rounds in a row the imbalance has been above
// the threshold, whether a balancing run is under way, and the moves it made lately (for its
// cooldown and the no-ping-pong rule). A few numbers per node and per recent move: bounded.

import type { Action } from '../../domain';

/**
 * vmid (JSON key) → [epoch s of the move, source, target, 1 once seen under way or done, MiB in
 * use when proposed]. The size counts the move while it is under way: a restart migration stops
 * the container, and the observation then shows its memory on neither node.
 */
export type MoveRecord = [number, string, string, 0 | 1, number];

export interface BalanceState {
  /** Per node: the last CPU samples, tenths of a percent of its cores, oldest first. */
  w: Record<string, number[]>;
  /** Rounds in a row with the imbalance above the threshold. */
  above: number;
  /** A run is under way: it goes on until the imbalance is at or below the target. */
  active: boolean;
  moved: Record<string, MoveRecord>;
}

export function emptyBalanceState(): BalanceState {
  return { w: {}, above: 0, active: false, moved: {} };
}

/** Adds this round's CPU sample of every listed node and forgets the nodes no longer listed. */
export function withCpuSamples(
  state: BalanceState,
  samples: ReadonlyArray<{ node: string; cpu: number }>,
  size: number,
): Record<string, number[]> {
  const w: Record<string, number[]> = {};
  for (const s of samples) {
    w[s.node] = [...(state.w[s.node] ?? []), Math.round(s.cpu * 1000)].slice(-Math.max(1, size));
  }
  return w;
}

/** The window's mean, as a share of the node's cores (0..1). */
export function meanCpu(window: readonly number[] | undefined, fallback: number): number {
  if (!window || window.length === 0) return fallback;
  return window.reduce((a, b) => a + b, 0) / window.length / 1000;
}

/**
 * The moves still in force: a proposal is kept once the manager started it (in flight) or the
 * container shows on its target; one that was never started (deferred, not admitted) is
 * forgotten, and every record ends after the cooldown.
 */
export function liveMoves(
  moved: Record<string, MoveRecord>,
  where: (vmid: number) => string | undefined,
  inFlight: readonly Action[],
  nowSeconds: number,
  cooldownSeconds: number,
): Record<string, MoveRecord> {
  const flying = new Set<number>();
  for (const a of inFlight) if (a.kind === 'migrate') flying.add(a.vmid);
  const out: Record<string, MoveRecord> = {};
  for (const [key, rec] of Object.entries(moved)) {
    const [at, from, to, seen, mib] = rec;
    if (at + cooldownSeconds <= nowSeconds) continue;
    const vmid = Number(key);
    const confirmed = seen === 1 || flying.has(vmid) || where(vmid) === to;
    if (confirmed) out[key] = [at, from, to, 1, mib ?? 0];
  }
  return out;
}
