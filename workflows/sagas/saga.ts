// What every container saga shares: input validation, search attributes and UI details, the step
// log, waiting on PVE tasks, the identity of its container, and the way a saga ends (succeeded or
// refused: completed; rolled back or needs attention: failed). Compensation always runs outside
// cancellation.
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
  patched,
  sleep,
} from '@temporalio/workflow';
import type { z } from 'zod';
import {
  describeIssues,
  refusalMessage,
  type OperationKind,
  type OperationResult,
  type Outcome,
} from '../../src/domain';
import type { ContainerFacts, TaskRequest } from '../../activities/proxmox';
import { PveNeedsAttention, PveNode, PveOperation, PveOutcome, PveVmid } from '../search-attributes';
import { metrics } from '../metrics-sinks';
import { compensations, requests, waits } from './activities';

export const sagaProgressQuery = defineQuery<{ operation: OperationKind; step: string; steps: string[] }>(
  'sagaProgress',
);

/** Failure types a saga ends with; the manager and the CLI read them. */
export const SagaFailureType = {
  invalidInput: 'InvalidInput',
  /**
   * A refusal, as runs begun before `refusalCompletesPatch` end; newer runs complete with a
   * `refused` result, which parents read as this failure (saga-children) and the CLI too.
   */
  refused: 'Refused',
  rolledBack: 'RolledBack',
  needsAttention: 'NeedsAttention',
} as const;

/** A compensation that no retry can help (the container is gone or is another one now). */
export const unrecoverableType = 'Unrecoverable';

/**
 * How long a compensation keeps trying after failed PVE tasks (each activity inside it already
 * retries failed calls). Giving up leaves a container for a human, so the budget is minutes.
 */
const compensationPatienceMs = 3 * 60_000;
const compensationBackoffMs = [5_000, 10_000, 20_000, 30_000];

/** Compensation failures that a later round cannot fix: wrong credentials, scope, input. */
const finalCompensationTypes = new Set([
  unrecoverableType,
  'NotManaged',
  'PveUnauthorized',
  'PveForbidden',
  'PveTlsRejected',
  'PveInvalidParameter',
]);

/** What `run` does besides forward and compensate; every part is optional. */
export interface RunOptions {
  /**
   * Asked after a failure (and after the last task ended) before anything is undone: true when the
   * saga's goal holds anyway (someone else stopped the CT a drop was stopping). Then the saga succeeds.
   */
  goalHolds?: () => Promise<boolean>;
}

/**
 * A refusal changed nothing, so it completes the run with its `refused` result: the Web UI does not
 * list it as Failed. Runs begun before this change replay their Refused failure.
 */
export const refusalCompletesPatch = 'saga-refusal-completes';

/**
 * Runs a saga's body; a refusal thrown anywhere in it (`Saga.refuse`) ends the run completed, with
 * the refused result, from `refusalCompletesPatch` on. Every other failure fails the run as before.
 */
export async function completingRefusals(body: () => Promise<OperationResult>): Promise<OperationResult> {
  try {
    return await body();
  } catch (err) {
    const refused = refusedResultOf(err);
    if (refused && patched(refusalCompletesPatch)) return refused;
    throw err;
  }
}

/** The result a `Saga.refuse` failure carries; undefined for any other error. */
function refusedResultOf(err: unknown): OperationResult | undefined {
  if (!(err instanceof ApplicationFailure) || err.type !== SagaFailureType.refused) return undefined;
  const result = err.details?.[0] as OperationResult | undefined;
  return result?.outcome === 'refused' ? result : undefined;
}

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
  /** Identity of the container at preflight; a read that finds another one reports it as gone. */
  private identity: string | null = null;
  /** The last task a step started or adopted, and every node the saga acted on. */
  private lastTask: TaskRequest | null = null;
  private readonly nodes = new Set<string>();

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
    if (node) this.nodes.add(node);
    upsertSearchAttributes([{ key: PveNode, value: node }]);
  }

  /**
   * Runs the preflight reads. A read that fails (the API down, a worker without the CA) refuses the
   * saga with the cause, so every run ends with an outcome; nothing was changed yet.
   */
  async preflight<T>(reads: () => Promise<T>): Promise<T> {
    try {
      return await reads();
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === SagaFailureType.refused) throw err;
      if (isCancellation(err)) {
        upsertSearchAttributes([{ key: PveOutcome, value: 'rolled-back' }]);
        metrics.sagaEnded(this.operation, 'rolled-back');
        this.at('rolled-back', 'cancelled before any change');
        throw err;
      }
      return this.refuse(`preflight could not read the cluster: ${failureText(err)}`);
    }
  }

  /** Records the container this saga works on; later reads tell it from one that took its vmid. */
  own(facts: ContainerFacts): ContainerFacts {
    this.identity = facts.identity;
    this.node(facts.node);
    return facts;
  }

  /**
   * The saga's own container, looked for on `near` first; null when it is gone, also when its vmid
   * now belongs to another container (PVE reuses freed ids): that one is never acted on.
   */
  async read(api: typeof compensations, near: string[]): Promise<ContainerFacts | null> {
    const vmid = this.vmid;
    if (vmid === null) return null;
    const facts = await api.readContainer({ vmid, near });
    if (facts && this.identity !== null && facts.identity !== this.identity) {
      log.warn('vmid now belongs to another container', { vmid, was: this.identity, now: facts.identity });
      return null;
    }
    return facts;
  }

  /** The identity recorded at preflight, for activities that must not touch another container. */
  get ownIdentity(): string | undefined {
    return this.identity ?? undefined;
  }

  /** Waits for the task a request* activity started or adopted; nothing to do when it had none. */
  async task(request: Promise<TaskRequest>): Promise<TaskRequest> {
    const started = await request;
    this.lastTask = started;
    if (started.node) this.nodes.add(started.node);
    if (started.upid) await waits.awaitTask({ node: started.node, upid: started.upid });
    return started;
  }

  /**
   * Lets whatever PVE still runs for the container end: a cancelled saga stops waiting, but PVE
   * keeps running the task (and its lock), and a request cancelled mid-call may have started one the
   * saga never heard of. The compensation acts only on a container at rest.
   */
  private async settle(): Promise<void> {
    const task = this.lastTask;
    if (task?.upid) {
      try {
        await waits.awaitTask({ node: task.node, upid: task.upid });
      } catch {
        // Its failure was the forward path's concern; the compensation reads the state anyway.
      }
    }
    if (this.vmid !== null && this.nodes.size > 0) {
      await waits.awaitIdle({ vmid: this.vmid, nodes: [...this.nodes] });
    }
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
    metrics.sagaEnded(this.operation, 'succeeded');
    this.at('done', detail);
    return this.result('succeeded', node, detail);
  }

  /**
   * Ends the saga refused, before anything was changed: thrown up to `completingRefusals`, which
   * completes the run with the result this failure carries.
   */
  refuse(reason: string): never {
    upsertSearchAttributes([{ key: PveOutcome, value: 'refused' }]);
    metrics.sagaEnded(this.operation, 'refused');
    this.at('refused', reason);
    const result = this.result('refused', '', reason);
    throw ApplicationFailure.create({
      type: SagaFailureType.refused,
      message: refusalMessage(result),
      nonRetryable: true,
      details: [result],
    });
  }

  /**
   * Runs `forward`; when it fails (or the saga is cancelled), outside cancellation: lets the last
   * task end, asks whether the goal holds anyway (then the saga succeeds), else runs `compensate`,
   * again after failed PVE tasks, with backoff, for about 3 minutes. A compensation that still
   * fails marks the run needs-attention. `compensate` must be ensure-style: it reads the state first.
   */
  async run(
    forward: () => Promise<void>,
    compensate: () => Promise<string>,
    opts: RunOptions = {},
  ): Promise<void> {
    await this.runFor(forward, compensate, opts);
  }

  /** `run` for a forward path with a result (provision's vmid); no goal check. */
  async runFor<T>(
    forward: () => Promise<T>,
    compensate: () => Promise<string>,
    opts: RunOptions = {},
  ): Promise<T | undefined> {
    try {
      return await forward();
    } catch (err) {
      const cause = failureText(err);
      this.at('compensate', cause);
      let restored: string | null;
      try {
        restored = await CancellationScope.nonCancellable(() => this.patiently(compensate, opts));
      } catch (compErr) {
        const why = `${cause}; compensation failed: ${failureText(compErr)}`;
        upsertSearchAttributes([
          { key: PveOutcome, value: 'needs-attention' },
          { key: PveNeedsAttention, value: true },
        ]);
        metrics.sagaEnded(this.operation, 'needs-attention');
        this.at('needs-attention', why);
        log.error('saga needs attention', { vmid: this.vmid, why });
        throw ApplicationFailure.create({
          type: SagaFailureType.needsAttention,
          message: `${this.operation} of CT ${this.vmid ?? '?'} needs attention: ${why}`,
          nonRetryable: true,
          details: [this.result('needs-attention', '', why)],
        });
      }
      if (restored === null) {
        log.info('the goal holds although a step failed; nothing to undo', { vmid: this.vmid, cause });
        return undefined;
      }
      upsertSearchAttributes([{ key: PveOutcome, value: 'rolled-back' }]);
      metrics.sagaEnded(this.operation, 'rolled-back');
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

  /** One compensation, repeated after failures a later round may fix; null: the goal held. */
  private async patiently(compensate: () => Promise<string>, opts: RunOptions): Promise<string | null> {
    const giveUpAt = Date.now() + compensationPatienceMs;
    for (let round = 0; ; round++) {
      try {
        await this.settle();
        if (opts.goalHolds && (await opts.goalHolds())) return null;
        return await compensate();
      } catch (err) {
        const type = failureType(err);
        const wait = compensationBackoffMs[Math.min(round, compensationBackoffMs.length - 1)] ?? 30_000;
        if ((type !== undefined && finalCompensationTypes.has(type)) || Date.now() + wait > giveUpAt)
          throw err;
        log.warn('compensation failed; trying again', {
          vmid: this.vmid,
          error: failureText(err),
          waitMs: wait,
        });
        await sleep(wait);
      }
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

/**
 * The most useful line of a failure: the innermost cause's message that says something (a
 * cancellation's own message is empty), never an empty text.
 */
export function failureText(err: unknown): string {
  const chain: Error[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    chain.push(e);
    e = e.cause;
  }
  if (chain.length === 0) return String(err) || 'unknown failure';
  for (const link of chain.reverse()) if (link.message.trim()) return link.message.trim();
  return isCancellation(err) ? 'cancelled' : (failureType(err) ?? chain[0]?.name ?? 'unknown failure');
}

export function verificationFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'VerificationFailed', message, nonRetryable: true });
}

/** The container is gone or is another one: a compensation stops at once, no later round helps. */
export function unrecoverable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: unrecoverableType, message, nonRetryable: true });
}
