// Signals, queries and updates of the long-running workflows (generator and cluster manager),
// shared with clients: the CLI and scripts import these definitions, the workflows set handlers.
// Changes go through updates, so the caller learns at once whether they were accepted.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Action, ClusterSnapshot, ContainerTemplate } from '../src/domain';
import type { ArrivalLaw, GeneratorPolicy, ManagerPolicy } from '../src/policy';
import type { AutomationLevel } from '../src/domain';

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
  policy: ManagerPolicy;
  automation: AutomationLevel;
  cycleSeconds: number;
  seed: number;
  /** Cycles per run before continue-as-new (default 500); tests set it low to exercise the hand-over. */
  iterationsPerRun?: number;
  carried?: ManagerState;
}

export type ManagerRunState = 'running' | 'paused' | 'stopping' | 'stopped';

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
  /** Saga workflow id once started. */
  workflowId?: string;
  /** Outcome or failure text once finished. */
  detail?: string;
}

export interface ObservationSummary {
  at: number;
  nodes: Array<{
    name: string;
    status: string;
    managedPercent: number;
    usedPercent: number;
    containers: number;
  }>;
  managedContainers: number;
}

export interface ManagerState {
  runState: ManagerRunState;
  automation: AutomationLevel;
  policy: ManagerPolicy;
  cycle: number;
  lastObservation?: ObservationSummary;
  /** The last 50 decisions, newest last. */
  decisions: Decision[];
  /** Why the last decide did nothing where a reader might expect an action (src/policy's notes). */
  notes?: string[];
  /** Carried decision memory (in-flight actions, cooldowns, PRNG) for src/policy's decide(). */
  memory: { inFlight: Action[]; cooldownUntil: Record<string, number>; seed: number };
}

export const managerStatusQuery = defineQuery<ManagerState>('managerStatus');
/** The raw last snapshot, for `pve-autopilot status`-style views without another API call. */
export const lastSnapshotQuery = defineQuery<ClusterSnapshot | null>('lastSnapshot');
export const pauseManagerUpdate = defineUpdate<ManagerState>('pauseManager');
export const resumeManagerUpdate = defineUpdate<ManagerState>('resumeManager');
export const stopManagerUpdate = defineUpdate<ManagerState>('stopManager');
/** Approve recommended decisions by id, or all with ["all"]; returns the ids approved. */
export const approveUpdate = defineUpdate<string[], [string[]]>('approve');
/** Validated: 0 < migratePercent <= dropPercent <= 100. */
export const setThresholdsUpdate = defineUpdate<
  ManagerState,
  [{ migratePercent?: number; dropPercent?: number }]
>('setThresholds');
export const setAutomationUpdate = defineUpdate<ManagerState, [AutomationLevel]>('setAutomation');

export function generatorWorkflowId(cluster: string): string {
  return `generator-${cluster}`;
}

export function clusterManagerWorkflowId(cluster: string): string {
  return `cluster-manager-${cluster}`;
}
