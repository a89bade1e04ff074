// The node drain workflow's input (checked with zod at the CLI and again in the workflow), its
// state as the status query returns it, and its query and update, shared with the CLI and scripts.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { settingsSchema } from './manager/input';

const nodeName = z.string().regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/, 'expected a node name');

export const MAX_DRAIN_PARALLEL = 32;

export const nodeDrainInputSchema = z.strictObject({
  cluster: z.string().min(1),
  node: nodeName,
  /** Migrations at once (K). */
  parallel: z
    .number()
    .int()
    .min(1, `expected an integer from 1 to ${MAX_DRAIN_PARALLEL}`)
    .max(MAX_DRAIN_PARALLEL, `expected an integer from 1 to ${MAX_DRAIN_PARALLEL}`),
  /** The core settings from the config; drainedNodes holds the other nodes drained at start. */
  settings: settingsSchema,
  mode: z.enum(['offline', 'restart']).default('offline'),
  /** Wait between looks while a container has nowhere to go. */
  retrySeconds: z.number().gt(0).max(3600).default(30),
  /**
   * While drained, look again this often: a provision or a move into the node that was already
   * under way when the drain began (or a person's) lands after the last look, and is moved off too.
   */
  recheckSeconds: z.number().gt(0).max(86_400).default(60),
  /** Migrations of one container that may fail before the drain leaves it. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Carried across continue-as-new; absent on the first run. */
  carried: z.unknown().optional(),
});
export type NodeDrainInput = z.input<typeof nodeDrainInputSchema>;

/**
 * evacuating: moving containers off. drained: no managed container left, the node stays closed.
 * blocked: some containers cannot move (no room, locked, failed too often); retried while it waits.
 * undraining: undrain asked, the moves in flight end. undrained: the node takes containers again.
 */
export type DrainPhase = 'evacuating' | 'drained' | 'blocked' | 'undraining' | 'undrained';

export interface DrainMove {
  vmid: number;
  to: string;
  workflowId: string;
  /** Epoch ms, workflow time. */
  startedAt: number;
}

export interface DrainFailure {
  vmid: number;
  detail: string;
  at: number;
}

export interface NodeDrainState {
  cluster: string;
  node: string;
  parallel: number;
  phase: DrainPhase;
  startedAt: number;
  /** When the last managed container left (the evacuation time is drainedAt - startedAt). */
  drainedAt?: number;
  /** The other drained nodes of the cluster, which no move may target. */
  otherDrained: string[];
  inFlight: DrainMove[];
  /** Containers moved off, in order. */
  moved: Array<{ vmid: number; to: string; at: number }>;
  /** Failed migrations per vmid (as a JSON key). */
  attempts: Record<string, number>;
  /** The last failures, newest last. */
  failures: DrainFailure[];
  /** Managed containers on the node at the last look. */
  remaining: number[];
  /** Containers that cannot move now, and why. */
  blocked: Array<{ vmid: number; why: string }>;
  /** Guests the drain leaves on the node: containers outside the managed scope. */
  unmanaged: Array<{ vmid: number; name: string }>;
  lastObservedAt?: number;
}

export const nodeDrainStatusQuery = defineQuery<NodeDrainState>('nodeDrainStatus');
/** Ends the drain: starts no more moves, lets those in flight end, then opens the node again. */
export const undrainNodeUpdate = defineUpdate<NodeDrainState>('undrainNode');
