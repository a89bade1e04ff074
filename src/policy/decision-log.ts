// The manager's decision log as plain JSON: recording, de-duplicating recommendations, expiring and
// trimming. Pure functions over arrays, so the workflow's state stays carryable.
import type { Action } from '../domain';

export type DecisionStatus =
  'recommended' | 'approved' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'expired';

export interface Decision {
  /** Stable id, e.g. "c12-1": cycle 12, first action. */
  id: string;
  cycle: number;
  /** Epoch ms, workflow time. */
  at: number;
  action: Action;
  status: DecisionStatus;
  /** The rule that proposed it (absent in decisions recorded before rules had names). */
  rule?: string;
  /** Saga workflow id once started. */
  workflowId?: string;
  /** Outcome or failure text once finished. */
  detail?: string;
}

export const MAX_DECISIONS = 50;

const FINISHED: readonly DecisionStatus[] = ['succeeded', 'failed', 'rejected', 'expired'];

export function isFinished(d: Decision): boolean {
  return FINISHED.includes(d.status);
}

/** Waiting for a human or for a free slot: a new cycle must not record the same intent twice. */
export function isPending(d: Decision): boolean {
  return d.status === 'recommended' || d.status === 'approved';
}

/** Same container, same operation, same goal; reasons differ from cycle to cycle and do not count. */
export function sameIntent(a: Action, b: Action): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'migrate':
      return b.kind === 'migrate' && a.vmid === b.vmid && a.to === b.to;
    case 'drop':
      return b.kind === 'drop' && a.vmid === b.vmid && a.mode === b.mode;
    case 'scale':
      return (
        b.kind === 'scale' &&
        a.vmid === b.vmid &&
        a.cores === b.cores &&
        a.memoryMiB === b.memoryMiB &&
        a.swapMiB === b.swapMiB
      );
    case 'provision':
      return b.kind === 'provision' && a.node === b.node && a.memoryMiB === b.memoryMiB;
  }
}

export function newDecisions(
  actions: readonly Action[],
  cycle: number,
  at: number,
  status: DecisionStatus,
): Decision[] {
  return actions.map((action, i) => ({ id: `c${cycle}-${i + 1}`, cycle, at, action, status }));
}

/**
 * Records this cycle's recommendations: an intent already pending keeps its decision (and id, which
 * a human may be about to approve); a recommendation the cycle no longer makes expires.
 */
export function withRecommendations(
  decisions: readonly Decision[],
  actions: readonly Action[],
  cycle: number,
  at: number,
): Decision[] {
  const pending = decisions.filter(isPending);
  const fresh = actions.filter((a) => !pending.some((d) => sameIntent(d.action, a)));
  const updated = decisions.map((d) =>
    d.status === 'recommended' && !actions.some((a) => sameIntent(d.action, a))
      ? { ...d, status: 'expired' as const, detail: `no longer recommended at cycle ${cycle}` }
      : d,
  );
  return trimmed([...updated, ...newDecisions(fresh, cycle, at, 'recommended')]);
}

export function withRecommendationsExpired(decisions: readonly Decision[], why: string): Decision[] {
  return decisions.map((d) => (d.status === 'recommended' ? { ...d, status: 'expired', detail: why } : d));
}

/** Keeps the newest MAX_DECISIONS; only finished decisions are dropped, never one still in play. */
export function trimmed(decisions: readonly Decision[]): Decision[] {
  const out = [...decisions];
  let excess = out.length - MAX_DECISIONS;
  for (let i = 0; i < out.length && excess > 0;) {
    const d = out[i] as Decision;
    if (isFinished(d)) {
      out.splice(i, 1);
      excess--;
    } else {
      i++;
    }
  }
  return out;
}

/** The ids `approve` would act on: every recommended decision for ["all"], else those named. */
export function approvable(decisions: readonly Decision[], ids: readonly string[]): string[] {
  const recommended = decisions.filter((d) => d.status === 'recommended').map((d) => d.id);
  return ids.includes('all') ? recommended : recommended.filter((id) => ids.includes(id));
}

/** null when every id names a recommended decision (or ids is ["all"]); else what is wrong. */
export function approvalProblem(decisions: readonly Decision[], ids: unknown): string | null {
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
    return 'ids: expected a non-empty list of decision ids, or ["all"]';
  }
  if (ids.includes('all')) return null;
  const recommended = decisions.filter((d) => d.status === 'recommended').map((d) => d.id);
  const unknown = ids.filter((id) => !recommended.includes(id));
  if (unknown.length === 0) return null;
  const now = recommended.length > 0 ? recommended.join(', ') : 'none';
  return `ids: no recommended decision ${unknown.map((id) => `'${id}'`).join(', ')} (recommended now: ${now})`;
}
