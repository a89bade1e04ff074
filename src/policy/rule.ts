// The contract between the manager's round and its rules: what a rule sees, what it returns, and
// what it is. A rule decides from one view of the cluster and its own JSON state; the round (step)
// owns everything shared: scope, cooldowns, in-flight operations, admission, budgets, automation.

import type { z } from 'zod';
import type { Action, AutomationLevel, ClusterSnapshot, ContainerState, ManagedScope } from '../domain';
import type { CapacityBasis, NodeLoad } from './capacity';

/** Settings every rule shares, from the manager section of the config. */
export interface CoreSettings {
  scope: ManagedScope;
  capacityBasis: CapacityBasis;
  /** A target's used memory plus an incoming container's limit stays within this share of its total. */
  admissionShare: number;
  /** A target's used CPU plus an incoming container's use stays within this share of its cores. */
  cpuShare: number;
  /** Operations at once, in flight included. */
  maxConcurrent: number;
  /** Migrations into or out of one node at once, in flight included. */
  maxPerNode: number;
  /** Operations of one kind at once, in flight included; a kind not listed is bounded by maxConcurrent. */
  maxPerKind: Partial<Record<Action['kind'], number>>;
  /** How long a container is left alone after an operation on it (and after it starts). */
  cooldownMs: number;
  /** Nodes that take no new containers or moves (maintenance). */
  drainedNodes: string[];
}

export interface RuleView {
  readonly snapshot: ClusterSnapshot;
  readonly settings: CoreSettings;
  /** Epoch ms of this round; the only clock a rule has. */
  readonly now: number;
  /** Online nodes, sorted by name, with the operations in flight counted as done. */
  readonly loads: readonly NodeLoad[];
  /** The only containers a rule may act on now, sorted by vmid. */
  readonly actionable: readonly ContainerState[];
  /** The operations in flight (started by the manager and not finished), as the projection counts them. */
  readonly inFlight: readonly Action[];
  /** A uniform draw in [0, 1) from the round's seeded PRNG. */
  random(): number;
}

export interface Proposal {
  action: Action;
  /** Higher goes first; the rule's configured priority when absent. */
  priority?: number;
}

export interface RuleResult<S> {
  proposals: Proposal[];
  state: S;
  /** Why the rule did nothing where a reader might expect an action. */
  notes: string[];
}

/** What every rule's config section has besides its own settings. */
export interface RuleBase {
  enabled: boolean;
  automation: AutomationLevel;
  priority: number;
}

export interface Rule<C extends RuleBase = RuleBase, S = unknown> {
  /** Also the rule's config section and the key of its state. */
  readonly name: string;
  /** Its config section, defaults included; parsed at the config edge and again in the workflow. */
  readonly config: z.ZodType<C>;
  /** The state before its first round; plain JSON, bounded in size. */
  initialState(): S;
  evaluate(view: RuleView, config: C, state: S): RuleResult<S>;
}

/** A rule of any config and state, as the registry and the round hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRule = Rule<any, any>;

/** The more cautious of the manager's level and the rule's own. */
export function effectiveAutomation(global: AutomationLevel, rule: AutomationLevel): AutomationLevel {
  const rank: Record<AutomationLevel, number> = { off: 0, recommend: 1, auto: 2 };
  return rank[global] <= rank[rule] ? global : rule;
}
