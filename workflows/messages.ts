// Signals, queries and updates of the long-running workflows (generator and cluster manager),
// shared with clients: the CLI and scripts import these definitions, the workflows set handlers.
// Changes go through updates, so the caller learns at once whether they were accepted.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AutomationLevel, ClusterSnapshot, ContainerTemplate } from '../src/domain';
import type { ArrivalLaw, CoreSettings, GeneratorPolicy, ManagerCore, RuleBase } from '../src/policy';
import type { ObservationSummary } from './manager/summary';

export type { Decision, DecisionStatus } from '../src/policy';
export type { ObservationSummary } from './manager/summary';

// ---- generator ------------------------------------------------------------------------------

export interface GeneratorInput {
  cluster: string;
  policy: GeneratorPolicy;
  arrival: ArrivalLaw;
  /** What each new container looks like, apart from its memory and node. */
  container: ContainerTemplate;
  /** Wait after finding every node full before looking again. */
  backoffSeconds: number;
  /** A new container keeps its node's memory within this share (manager.admissionShare; default 0.9). */
  admissionShare?: number;
  seed: number;
  /** Stop after creating this many (unset: run until stopped). */
  maxContainers?: number;
  /** Arrivals per run before continue-as-new (default 500); tests set it low to exercise the hand-over. */
  iterationsPerRun?: number;
  /** Nodes drained when it starts (the running drain workflows); later changes come as signals. */
  drainedNodes?: string[];
  /** Carried across continue-as-new; absent on the first run. */
  carried?: GeneratorState;
}

export type GeneratorRunState = 'running' | 'paused' | 'backing-off' | 'stopping' | 'stopped';

export interface GeneratorChoice {
  /** Epoch ms, workflow time. */
  at: number;
  node: string | null;
  memoryMiB: number;
  vmid?: number;
  outcome: 'created' | 'failed' | 'skipped-capacity';
  detail?: string;
}

export interface GeneratorState {
  runState: GeneratorRunState;
  arrival: ArrivalLaw;
  counters: { created: number; failed: number; skippedForCapacity: number };
  /** The last 20 choices, newest last. */
  recent: GeneratorChoice[];
  /** PRNG state (mulberry32), plain number so it survives continue-as-new. */
  seed: number;
  /** Epoch ms of the next arrival, when one is scheduled. */
  nextArrivalAt?: number;
  /** Drained nodes: no container is created on them. */
  drainedNodes?: string[];
}

export const generatorStatusQuery = defineQuery<GeneratorState>('generatorStatus');
/** Returns once the creation in flight (if any) has ended: nothing more is created until resumed. */
export const pauseGeneratorUpdate = defineUpdate<GeneratorState>('pauseGenerator');
export const resumeGeneratorUpdate = defineUpdate<GeneratorState>('resumeGenerator');
/** Finishes the creation in progress, then completes the workflow. */
export const stopGeneratorUpdate = defineUpdate<GeneratorState>('stopGenerator');
/** Validated: a bad law is rejected before it is written to history. */
export const setArrivalUpdate = defineUpdate<GeneratorState, [ArrivalLaw]>('setArrival');

// ---- cluster manager ------------------------------------------------------------------------

export interface ManagerInput {
  cluster: string;
  /** What every rule shares: scope, capacity basis, admission shares, budgets, cooldown. */
  settings: CoreSettings;
  automation: AutomationLevel;
  /** Each rule's config section by rule name (src/policy/rules/registry.ts); a rule left out takes its defaults. */
  rules: Record<string, unknown>;
  cycleSeconds: number;
  seed: number;
  /** Cycles per run before continue-as-new (default 500); tests set it low to exercise the hand-over. */
  iterationsPerRun?: number;
  carried?: ManagerState;
}

export type ManagerRunState = 'running' | 'paused' | 'stopping' | 'stopped';

export interface ManagerState {
  runState: ManagerRunState;
  automation: AutomationLevel;
  settings: CoreSettings;
  /** Each rule's config, validated, by rule name. */
  rules: Record<string, RuleBase>;
  cycle: number;
  lastObservation?: ObservationSummary;
  /** What the last round noted: why a rule did nothing, what was deferred and why. */
  notes?: string[];
  /** Decisions (the last 50, newest last; running ones are in flight), cooldowns, rule states, PRNG. */
  core: ManagerCore;
}

/** A change of the manager's automation level, or of one rule's. */
export type AutomationChange = AutomationLevel | { level: AutomationLevel; rule?: string };

export const managerStatusQuery = defineQuery<ManagerState>('managerStatus');
/** The raw last snapshot, for `pve-autopilot status`-style views without another API call. */
export const lastSnapshotQuery = defineQuery<ClusterSnapshot | null>('lastSnapshot');
export const pauseManagerUpdate = defineUpdate<ManagerState>('pauseManager');
export const resumeManagerUpdate = defineUpdate<ManagerState>('resumeManager');
export const stopManagerUpdate = defineUpdate<ManagerState>('stopManager');
/** Approve recommended decisions by id, or all with ["all"]; returns the ids approved. */
export const approveUpdate = defineUpdate<string[], [string[]]>('approve');
/** The lab rule's thresholds; validated like the config: 0 < migratePercent <= dropPercent <= 100. */
export const setThresholdsUpdate = defineUpdate<
  ManagerState,
  [{ migratePercent?: number; dropPercent?: number }]
>('setThresholds');
export const setAutomationUpdate = defineUpdate<ManagerState, [AutomationChange]>('setAutomation');

export function generatorWorkflowId(cluster: string): string {
  return `generator-${cluster}`;
}

export function clusterManagerWorkflowId(cluster: string): string {
  return `cluster-manager-${cluster}`;
}

// ---- node drain (maintenance) ---------------------------------------------------------------

/**
 * A node was drained or undrained. The drain workflow sends it to the cluster manager, the
 * generator and the other drains of its cluster, so none of them places anything on a drained node.
 */
export interface NodeDrainChange {
  node: string;
  drained: boolean;
}
export const nodeDrainChangedSignal = defineSignal<[NodeDrainChange]>('nodeDrainChanged');

export function nodeDrainWorkflowId(cluster: string, node: string): string {
  return `drain-${cluster}-${node}`;
}

/**
 * The drained set after a change: sorted, each node once. A malformed change (signals cannot be
 * refused) leaves the set as it was rather than throwing inside a workflow.
 */
export function withDrainChange(nodes: readonly string[], change: unknown): string[] {
  if (typeof change !== 'object' || change === null) return [...nodes];
  const { node, drained } = change as Partial<NodeDrainChange>;
  if (typeof node !== 'string' || node === '' || typeof drained !== 'boolean') return [...nodes];
  const rest = nodes.filter((n) => n !== node);
  return (drained ? [...rest, node] : rest).sort();
}
