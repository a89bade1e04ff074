// One monitoring cycle's decision: (snapshot, policy, memory) → actions with reasons. Pure: the
// clock and the randomness come in through memory, so a replay decides exactly the same.

import type { Action, ClusterSnapshot } from '../domain';
import { nodeLoads } from './capacity';
import { actionableContainers } from './eligibility';
import { actionVmid, type DecisionMemory } from './memory';
import { projectInFlight } from './projection';
import { createRandom } from './random';
import { labRules, type ManagerPolicy, type LabRule, type RuleContext } from './rules';

export interface LabDecision {
  actions: Action[];
  notes: string[];
  /** PRNG state after this decision's draws: store it in memory for the next cycle. */
  seed: number;
}

export function decide(
  snapshot: ClusterSnapshot,
  policy: ManagerPolicy,
  memory: DecisionMemory,
  rules: readonly LabRule[] = labRules,
): LabDecision {
  const random = createRandom(memory.seed);
  const notes: string[] = [];
  const ctx = createRuleContext(snapshot, policy, memory, {
    random: () => random.next(),
    note: (text) => notes.push(text),
  });

  const allowed = ctx.actionable.map((ct) => ct.vmid);
  const budget = Math.max(0, policy.maxConcurrent - memory.inFlight.length);
  const actions: Action[] = [];
  let deferred = 0;
  for (const rule of rules) {
    for (const action of rule(ctx)) {
      const vmid = actionVmid(action);
      // Enforced here as well as in the rules, so a future rule cannot reach outside the scope.
      if (vmid !== undefined && !allowed.includes(vmid)) {
        notes.push(
          `ignored a ${action.kind} of CT ${vmid}: it is not a container this manager may touch now`,
        );
        continue;
      }
      // Two operations on one container in one cycle would race; the first rule's wins.
      if (vmid !== undefined && actions.some((a) => actionVmid(a) === vmid)) continue;
      if (actions.length >= budget) {
        deferred++;
        continue;
      }
      actions.push(action);
    }
  }
  if (deferred > 0) {
    notes.push(
      `${deferred} more action(s) deferred: at most ${policy.maxConcurrent} operation(s) at once, ` +
        `${memory.inFlight.length} in flight`,
    );
  }
  return { actions, notes, seed: random.state() };
}

/** What every rule sees; exported so a rule can be tested alone with chosen draws. */
export function createRuleContext(
  snapshot: ClusterSnapshot,
  policy: ManagerPolicy,
  memory: DecisionMemory,
  effects: Pick<RuleContext, 'random' | 'note'>,
): RuleContext {
  const measured = nodeLoads(snapshot, policy.scope, policy.capacityBasis);
  const loads = projectInFlight(measured, snapshot, policy.scope, policy.capacityBasis, memory.inFlight);
  const actionable = actionableContainers(snapshot, policy.scope, memory, loads);
  return { policy, loads, actionable, random: effects.random, note: effects.note };
}
