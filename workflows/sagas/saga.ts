// What every container saga shares: input validation, search attributes and UI details, the step
// log, waiting on PVE tasks, and the way a saga ends (succeeded, refused, rolled back, or needs
// attention). Compensation always runs outside cancellation.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  setCurrentDetails,
  upsertSearchAttributes,
  defineQuery,
  setHandler,
  log,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { describeIssues, type OperationKind, type OperationResult, type Outcome } from '../../src/domain';
import type { TaskRequest } from '../../activities/proxmox';
import { PveNeedsAttention, PveNode, PveOperation, PveOutcome, PveVmid } from '../search-attributes';
import { compensations, requests, waits } from './activities';

export const sagaProgressQuery = defineQuery<{ operation: OperationKind; step: string; steps: string[] }>(
  'sagaProgress',
);

/** Failure types a saga ends with; the manager and the CLI read them. */
export const SagaFailureType = {
  invalidInput: 'InvalidInput',
  refused: 'Refused',
  rolledBack: 'RolledBack',
  needsAttention: 'NeedsAttention',
} as const;

export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: SagaFailureType.invalidInput,
      message: `invalid input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

export class Saga {
  readonly steps: string[] = [];
  private step = 'start';

  constructor(
    readonly operation: OperationKind,
    public vmid: number | null,
    node: string | null,
  ) {
    setHandler(sagaProgressQuery, () => ({ operation, step: this.step, steps: [...this.steps] }));
    upsertSearchAttributes([
      { key: PveOperation, value: operation },
      ...(vmid !== null ? [{ key: PveVmid, value: String(vmid) }] : []),
      ...(node ? [{ key: PveNode, value: node }] : []),
    ]);
  }

  at(step: string, detail = ''): void {
    this.step = step;
    this.steps.push(step);
    setCurrentDetails(`**${this.operation} ${this.vmid ?? ''}**: ${step}${detail ? ` (${detail})` : ''}`);
    log.info(`step ${step}`, { vmid: this.vmid, detail });
  }

  /** For a saga that learns its container's id on the way (provision). */
  assignVmid(vmid: number): void {
    this.vmid = vmid;
    upsertSearchAttributes([{ key: PveVmid, value: String(vmid) }]);
  }

  node(node: string): void {
    upsertSearchAttributes([{ key: PveNode, value: node }]);
  }

  /** Waits for the task a request* activity started or adopted; nothing to do when it had none. */
  async task(request: Promise<TaskRequest>): Promise<TaskRequest> {
    const started = await request;
    if (started.upid) await waits.awaitTask({ node: started.node, upid: started.upid });
    return started;
  }

  /**
   * Graceful shutdown; when the shutdown task fails (the container did not stop in time), a hard
   * stop. An API that keeps failing is not a reason to stop hard: that failure propagates.
   */
  async stop(node: string, vmid: number, timeoutSeconds: number, compensating = false): Promise<void> {
    const api = compensating ? compensations : requests;
    try {
      await this.task(api.requestShutdown({ node, vmid, timeoutSeconds }));
    } catch (err) {
      if (!(err instanceof ActivityFailure) || failureType(err) !== 'PveTaskFailed') throw err;
      log.warn('shutdown task failed; stopping hard', { vmid, error: failureText(err) });
      await this.task(api.requestStop({ node, vmid }));
    }
  }

  succeed(node: string, detail: string): OperationResult {
    upsertSearchAttributes([{ key: PveOutcome, value: 'succeeded' }]);
    this.at('done', detail);
    return this.result('succeeded', node, detail);
  }

  refuse(reason: string): never {
    upsertSearchAttributes([{ key: PveOutcome, value: 'refused' }]);
    this.at('refused', reason);
    throw ApplicationFailure.create({
      type: SagaFailureType.refused,
      message: `${this.operation} of CT ${this.vmid ?? '?'} refused: ${reason}`,
      nonRetryable: true,
      details: [this.result('refused', '', reason)],
    });
  }

  /**
   * Runs `forward`; when it fails (or the saga is cancelled) runs `compensate` outside cancellation.
   * Compensation that also fails marks the run needs-attention.
   */
  async run<T>(forward: () => Promise<T>, compensate: () => Promise<string>): Promise<T> {
    try {
      return await forward();
    } catch (err) {
      const cause = failureText(err);
      this.at('compensate', cause);
      let restored: string;
      try {
        restored = await CancellationScope.nonCancellable(compensate);
      } catch (compErr) {
        const why = `${cause}; compensation failed: ${failureText(compErr)}`;
        upsertSearchAttributes([
          { key: PveOutcome, value: 'needs-attention' },
          { key: PveNeedsAttention, value: true },
        ]);
        this.at('needs-attention', why);
        log.error('saga needs attention', { vmid: this.vmid, why });
        throw ApplicationFailure.create({
          type: SagaFailureType.needsAttention,
          message: `${this.operation} of CT ${this.vmid ?? '?'} needs attention: ${why}`,
          nonRetryable: true,
          details: [this.result('needs-attention', '', why)],
        });
      }
      upsertSearchAttributes([{ key: PveOutcome, value: 'rolled-back' }]);
      this.at('rolled-back', restored);
      if (isCancellation(err)) throw err;
      throw ApplicationFailure.create({
        type: SagaFailureType.rolledBack,
        message: `${this.operation} of CT ${this.vmid ?? '?'} rolled back: ${cause}; ${restored}`,
        nonRetryable: true,
        details: [this.result('rolled-back', '', `${cause}; ${restored}`)],
      });
    }
  }

  result(outcome: Outcome, node: string, detail: string): OperationResult {
    return { operation: this.operation, outcome, vmid: this.vmid ?? 0, node, steps: [...this.steps], detail };
  }
}

/** The ApplicationFailure type behind an activity or child workflow failure. */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure) return e.type ?? undefined;
    e = e.cause;
  }
  return undefined;
}

/** The most useful line of a failure: the innermost cause's message. */
export function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

export function verificationFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'VerificationFailed', message, nonRetryable: true });
}
