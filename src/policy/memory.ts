// What the manager remembers between cycles, as plain JSON the workflow carries through
// continue-as-new: operations in flight, per-container cooldowns, the clock and the PRNG state.

import type { Action } from '../domain';

export interface DecisionMemory {
  /** Epoch ms of this cycle, read by the workflow; policy code never reads a clock. */
  now: number;
  /**
   * Actions started and not yet finished. Whole actions rather than vmids, because a migration
   * under way still shows its container on the source: decisions must count it on the target.
   */
  inFlight: Action[];
  /** vmid (as a JSON object key) → epoch ms until which no new action may touch it. */
  cooldownUntil: Record<string, number>;
  /** PRNG state for the draws a rule needs; decide returns the next one. */
  seed: number;
}

export function emptyMemory(now: number, seed: number): DecisionMemory {
  return { now, inFlight: [], cooldownUntil: {}, seed: seed >>> 0 };
}

export function actionVmid(action: Action): number | undefined {
  return action.kind === 'provision' ? undefined : action.vmid;
}

export function isInFlight(memory: DecisionMemory, vmid: number): boolean {
  return memory.inFlight.some((a) => actionVmid(a) === vmid);
}

export function isCoolingDown(memory: DecisionMemory, vmid: number): boolean {
  const until = memory.cooldownUntil[String(vmid)];
  return until !== undefined && until > memory.now;
}

export function withActionsStarted(memory: DecisionMemory, actions: readonly Action[]): DecisionMemory {
  return { ...memory, inFlight: [...memory.inFlight, ...actions] };
}

/** Removes the finished action and starts the container's cooldown, so it is not moved back at once. */
export function withActionFinished(
  memory: DecisionMemory,
  action: Action,
  finishedAt: number,
  cooldownMs: number,
): DecisionMemory {
  const index = memory.inFlight.findIndex((a) => sameAction(a, action));
  const inFlight = index < 0 ? memory.inFlight : memory.inFlight.filter((_, i) => i !== index);
  const vmid = actionVmid(action);
  const cooldownUntil =
    vmid === undefined
      ? memory.cooldownUntil
      : { ...memory.cooldownUntil, [String(vmid)]: finishedAt + cooldownMs };
  return { ...memory, inFlight, cooldownUntil };
}

/** Forgets cooldowns that have ended, so the carried state does not grow without bound. */
export function withoutExpiredCooldowns(memory: DecisionMemory): DecisionMemory {
  const cooldownUntil: Record<string, number> = {};
  for (const [vmid, until] of Object.entries(memory.cooldownUntil)) {
    if (until > memory.now) cooldownUntil[vmid] = until;
  }
  return { ...memory, cooldownUntil };
}

function sameAction(a: Action, b: Action): boolean {
  if (a.kind !== b.kind) return false;
  const vmid = actionVmid(a);
  if (vmid !== undefined) return vmid === actionVmid(b);
  // Provisions have no vmid yet: they are the same when they ask for the same thing.
  return JSON.stringify(a) === JSON.stringify(b);
}
