// The contract between decide and its rules: what a rule sees, and what a rule is.

import type { Action, ContainerState, DropMode, ManagedScope } from '../../domain';
import type { CapacityBasis, NodeLoad } from '../capacity';

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

/** What the lab's drop and migrate rules read of the policy. */
export type LabPolicy = Pick<
  ManagerPolicy,
  'capacityBasis' | 'migratePercent' | 'dropPercent' | 'migrateChoice' | 'dropMode' | 'admissionShare'
>;

export interface RuleContext {
  readonly policy: LabPolicy;
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
export type LabRule = (ctx: RuleContext) => Action[];
