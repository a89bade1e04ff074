// migrate, scale, snapshot, rollback, drop: check the container (and node) against the cluster,
// start the saga through src/temporal's typed start, then follow it step by step to its outcome.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { coreSettingsOf, managedScopeOf } from '../../config';
import { operationSummary, refusalMessage, type OperationResult } from '../../domain';
import { affinityProblem, projectCluster } from '../../policy';
import { toClusterSnapshot, type ClusterResource } from '../../proxmox';
import { ContainerBusyError, InvalidOperationInputError, startOperation } from '../../temporal/starts';
import { SagaFailureType, sagaProgressQuery } from '../../../workflows/sagas/saga';
import type { SagaCommand } from '../args';
import { observe, requireManagedContainer, requireNode } from '../cluster';
import type { Context } from '../context';
import { CliError, ExitCode, UsageError, type ExitCodeValue } from '../exit-codes';
import { duration, line, printJson, ProgressLine } from '../output';

const REASON = 'operator, pve-autopilot CLI';
const POLL_MS = 1000;
/** Without any answer to a progress query by then, no worker is likely polling the task queue. */
const NO_WORKER_HINT_MS = 10_000;

export async function sagaCommand(ctx: Context, command: SagaCommand): Promise<number> {
  const scope = managedScopeOf(ctx.config);
  const resources = await observe(ctx);
  requireManagedContainer(resources, command.vmid, scope, command.name);
  if (command.name === 'migrate') {
    requireNode(resources, command.to, command.name);
    refuseStrictBreach(ctx, resources, command.vmid, command.to);
  }

  const client = await ctx.temporal();
  const { handle, summary } = await start(ctx, client, command);
  const url = ctx.workflowUrl(handle.workflowId);
  if (!ctx.global.json) {
    line(ctx.io.stdout, `Started: ${summary}`);
    line(ctx.io.stdout, `  workflow ${handle.workflowId}  ${url}`);
  }
  if (!ctx.global.wait) {
    if (ctx.global.json) {
      printJson(ctx.io, { workflowId: handle.workflowId, url, outcome: 'started' });
    }
    return ExitCode.ok;
  }
  const ending = await follow(ctx, client, handle, summary);
  if (ending === 'interrupted') {
    line(ctx.io.stderr, `Stopped waiting; the operation goes on: ${url}`);
    return 130;
  }
  return report(ctx, handle, url, ending);
}

/**
 * A move by hand may not break a strict affinity rule of the config, as no rule's move may: the
 * affinity rule would move the container straight back.
 */
function refuseStrictBreach(
  ctx: Context,
  resources: readonly ClusterResource[],
  vmid: number,
  to: string,
): void {
  const snapshot = toClusterSnapshot(resources, Date.now());
  const from = snapshot.containers.find((c) => c.vmid === vmid)?.node;
  if (from === undefined) return;
  const cluster = projectCluster(snapshot, coreSettingsOf(ctx.config), []);
  const problem = affinityProblem({ kind: 'migrate', vmid, from, to, reason: REASON }, cluster);
  if (problem !== undefined) {
    throw new CliError(
      ExitCode.refused,
      `migrate: ${problem}; change or remove the rule in affinity.rules to allow the move`,
    );
  }
}

async function start(
  ctx: Context,
  client: Client,
  command: SagaCommand,
): Promise<{ handle: WorkflowHandle; summary: string }> {
  const opts = { cluster: ctx.cluster, taskQueue: ctx.config.temporal.taskQueue, reason: REASON };
  const { vmid } = command;
  try {
    switch (command.name) {
      case 'migrate': {
        const input = {
          vmid,
          target: command.to,
          mode: command.mode,
          admissionShare: ctx.config.manager.admissionShare,
          reason: REASON,
        };
        return {
          handle: await startOperation(client, 'migrate', input, opts),
          summary: operationSummary('migrate', input),
        };
      }
      case 'scale': {
        const { cores, memoryMiB, swapMiB } = command;
        const input = {
          vmid,
          cores,
          memoryMiB,
          swapMiB,
          admissionShare: ctx.config.manager.admissionShare,
          reason: REASON,
        };
        return {
          handle: await startOperation(client, 'scale', input, opts),
          summary: operationSummary('scale', input),
        };
      }
      case 'snapshot': {
        const input = { vmid, name: command.snapshotName };
        return {
          handle: await startOperation(client, 'snapshot', input, opts),
          summary: operationSummary('snapshot', input),
        };
      }
      case 'rollback': {
        const input = { vmid, name: command.snapshotName };
        return {
          handle: await startOperation(client, 'rollback', input, opts),
          summary: operationSummary('rollback', input),
        };
      }
      case 'drop': {
        const input = {
          vmid,
          mode: command.mode ?? ctx.config.lab.dropMode,
          snapshotFirst: command.snapshotFirst,
          reason: REASON,
        };
        return {
          handle: await startOperation(client, 'drop', input, opts),
          summary: operationSummary('drop', input),
        };
      }
    }
  } catch (err) {
    if (err instanceof ContainerBusyError) {
      throw new CliError(ExitCode.refused, `${err.message}: ${ctx.workflowUrl(err.workflowId)}`);
    }
    if (err instanceof InvalidOperationInputError)
      throw new UsageError(`${command.name}: ${err.message}`, command.name);
    throw err;
  }
}

export type Ending =
  | { ok: true; result: OperationResult }
  | { ok: false; type: string; message: string; result: OperationResult | undefined };

/** The failure type of a saga that ended by cancellation (after its compensation). */
export const CANCELLED = 'Cancelled';

async function outcomeOf(handle: WorkflowHandle): Promise<Ending> {
  try {
    const result = (await handle.result()) as OperationResult;
    // A refused saga completes (runs begun on older workers fail with Refused): both exit 3.
    if (result.outcome === 'refused') {
      return { ok: false, type: SagaFailureType.refused, message: refusalMessage(result), result };
    }
    return { ok: true, result };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof CancelledFailure) {
      return { ok: false, type: CANCELLED, message: 'cancelled', result: undefined };
    }
    if (cause instanceof ApplicationFailure) {
      const detail = cause.details?.[0];
      return {
        ok: false,
        type: cause.type ?? 'Failure',
        message: cause.message,
        result: isOperationResult(detail) ? detail : undefined,
      };
    }
    return {
      ok: false,
      type: cause?.name ?? 'Failure',
      message: cause?.message ?? err.message,
      result: undefined,
    };
  }
}

function isOperationResult(value: unknown): value is OperationResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    'outcome' in value &&
    Array.isArray((value as { steps?: unknown }).steps)
  );
}

/**
 * Queries the saga's step every second until it ends. On a terminal the step is one line rewritten
 * in place; otherwise each step is printed once, so a log shows them all.
 */
export async function follow(
  ctx: Context,
  client: Client,
  handle: WorkflowHandle,
  summary: string,
): Promise<Ending | 'interrupted'> {
  const showSteps = !ctx.global.json;
  const progress = new ProgressLine(ctx.io.stderr);
  const tty = ctx.io.stderr.isTTY === true;
  const began = Date.now();
  let printed = 0;
  let answered = false;
  let hinted = false;

  const show = (steps: readonly string[]) => {
    if (!showSteps) return;
    if (tty) {
      const step = steps[steps.length - 1];
      if (step !== undefined) progress.show(`${summary}: ${step} (${duration(Date.now() - began)})`);
      return;
    }
    for (; printed < steps.length; printed++) progress.show(`  step ${printed + 1}: ${steps[printed] ?? ''}`);
  };

  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => {
    interrupt = () => resolve('interrupted');
  });
  process.once('SIGINT', interrupt);
  const ending = outcomeOf(handle);
  try {
    for (;;) {
      const progressNow = await client
        .withDeadline(Date.now() + 3 * POLL_MS, () => handle.query(sagaProgressQuery))
        .catch(() => null);
      if (progressNow !== null) {
        answered = true;
        show(progressNow.steps);
      } else if (!answered && !hinted && Date.now() - began > NO_WORKER_HINT_MS && showSteps) {
        hinted = true;
        progress.end();
        line(
          ctx.io.stderr,
          `No progress yet: is a worker polling task queue ${ctx.config.temporal.taskQueue}? (npm run worker)`,
        );
      }
      const next = await Promise.race([ending, interrupted, sleep(POLL_MS)]);
      if (next === 'interrupted') return next;
      if (next !== undefined) {
        if (next.result) show(next.result.steps);
        return next;
      }
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    progress.end();
  }
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

export const exitCodeOfFailure: Readonly<Record<string, ExitCodeValue>> = {
  [SagaFailureType.refused]: ExitCode.refused,
  [SagaFailureType.rolledBack]: ExitCode.failed,
  [SagaFailureType.needsAttention]: ExitCode.needsAttention,
  [SagaFailureType.invalidInput]: ExitCode.usage,
};

export const outcomeOfFailure: Readonly<Record<string, string>> = {
  [SagaFailureType.refused]: 'refused',
  [SagaFailureType.rolledBack]: 'rolled-back',
  [SagaFailureType.needsAttention]: 'needs-attention',
  [SagaFailureType.invalidInput]: 'invalid-input',
};

export function report(ctx: Context, handle: WorkflowHandle, url: string, ending: Ending): ExitCodeValue {
  const code = ending.ok ? ExitCode.ok : (exitCodeOfFailure[ending.type] ?? ExitCode.failed);
  const outcome = ending.ok ? 'succeeded' : (outcomeOfFailure[ending.type] ?? 'failed');
  if (ctx.global.json) {
    printJson(ctx.io, {
      workflowId: handle.workflowId,
      url,
      outcome,
      ...(ending.result ? { result: ending.result } : {}),
      ...(ending.ok ? {} : { failure: { type: ending.type, message: ending.message } }),
    });
  } else if (ending.ok) {
    line(ctx.io.stdout, `Succeeded: ${ending.result.detail}`);
  } else {
    // A saga's own failures already read "migrate of CT 1401 rolled back: ..."; others need a label.
    line(ctx.io.stdout, outcome === 'failed' ? `Failed (${ending.type}): ${ending.message}` : ending.message);
    if (code === ExitCode.needsAttention) line(ctx.io.stdout, `  look at ${url}`);
  }
  return code;
}
