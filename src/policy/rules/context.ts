// The contract between decide and its rules: what a rule sees, and what a rule is.

import type { Action, ClusterSnapshot, ContainerState, DropMode, ManagedScope } from '../../domain';
import type { CapacityBasis, NodeLoad } from '../capacity';
import type { DecisionMemory } from '../memory';

/** `random` picks the container with a draw, as the lab did; `best-fit` evens the load best. */
export type MigrateChoice = 'random' | 'best-fit';

/** What the manager's rules decide with; plain JSON, built from the config at the edge. */
export interface ManagerPolicy {
  scope: ManagedScope;
  capacityBasis: CapacityBasis;
  /** A node passing this percent of its memory in managed containers sheds one to a node under it. */
  migratePercent: number;
  /** When every node passes this percent, each drops its oldest managed container. */
  dropPercent: number;
  migrateChoice: MigrateChoice;
  dropMode: DropMode;
  /** Operations allowed at once, in flight included. */
  maxConcurrent: number;
  /** How long a container is left alone after an operation on it; applied by the workflow. */
  cooldownMs: number;
  /** A migration target must keep its total used memory within this share of its total. */
  admissionShare: number;
}

export interface RuleContext {
  readonly snapshot: ClusterSnapshot;
  readonly policy: ManagerPolicy;
  readonly memory: DecisionMemory;
  /** Online nodes, sorted by name, with operations in flight counted as done. */
  readonly loads: readonly NodeLoad[];
  /** The only containers a rule may act on, sorted by vmid. */
  readonly actionable: readonly ContainerState[];
  /** A uniform draw in [0, 1) from the seeded PRNG carried in memory. */
  random(): number;
  /** Records why a rule did nothing where a reader might expect an action. */
  note(text: string): void;
}

/** A rule proposes actions, each with a reason; decide enforces scope and the concurrency budget. */
export type Rule = (ctx: RuleContext) => Action[];
