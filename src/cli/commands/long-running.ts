// What the generator and manager commands share: one workflow per cluster under a fixed id, started
// once (a second start is refused, not doubled), changed through updates, read through queries.
import { randomInt } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  clusterManagerWorkflowId,
  generatorStatusQuery,
  generatorWorkflowId,
  managerStatusQuery,
} from '../../../workflows/messages';
import { SagaFailureType } from '../../../workflows/sagas/saga';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { line, printJson } from '../output';

export interface LoopWorkflow {
  /** "generator", "cluster manager": how messages name it. */
  label: string;
  /** The CLI words that act on it. */
  command: 'generator' | 'manager';
  workflowType: string;
  workflowId(cluster: string): string;
  /** Its status query, reduced to what confirming a start needs. */
  runStateOf(handle: WorkflowHandle): Promise<string>;
}

export const generatorLoop: LoopWorkflow = {
  label: 'generator',
  command: 'generator',
  workflowType: 'generatorWorkflow',
  workflowId: generatorWorkflowId,
  runStateOf: async (handle) => (await handle.query(generatorStatusQuery)).runState,
};

export const managerLoop: LoopWorkflow = {
  label: 'cluster manager',
  command: 'manager',
  workflowType: 'clusterManagerWorkflow',
  workflowId: clusterManagerWorkflowId,
  runStateOf: async (handle) => (await handle.query(managerStatusQuery)).runState,
};

/** A query or update that gets no answer by then means no worker is serving the workflow. */
const ANSWER_DEADLINE_MS = 20_000;
/** How long a start waits for the first answer, which proves the input was accepted. */
const CONFIRM_DEADLINE_MS = 5_000;

export function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

export async function startLoop(
  ctx: Context,
  loop: LoopWorkflow,
  input: object,
  summary: string,
): Promise<number> {
  const client = await ctx.temporal();
  const workflowId = loop.workflowId(ctx.cluster);
  const url = ctx.workflowUrl(workflowId);
  let handle: WorkflowHandleWithFirstExecutionRunId;
  try {
    handle = await client.workflow.start(loop.workflowType, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: summary,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(
        ExitCode.refused,
        `the ${loop.label} of cluster ${ctx.cluster} is already running as workflow ${workflowId} (${url}); ` +
          `nothing was started. To start it with new settings: pve-autopilot ${loop.command} stop, then start.`,
      );
    }
    throw err;
  }
  const runState = await confirmStarted(ctx, client, loop, handle);
  if (ctx.global.json) {
    printJson(ctx.io, { workflowId, runId: handle.firstExecutionRunId, url, started: true, runState, input });
  } else {
    line(ctx.io.stdout, `Started the ${loop.label} of cluster ${ctx.cluster}: ${summary}`);
    line(ctx.io.stdout, `  workflow ${workflowId}  ${url}`);
  }
  if (runState === null) {
    line(
      ctx.io.stderr,
      `No answer from the ${loop.label} yet: is a worker polling task queue ${ctx.config.temporal.taskQueue}? ` +
        '(npm run worker)',
    );
  }
  return ExitCode.ok;
}

/**
 * Asks the new run for its state: an answer proves a worker took it and accepted its input. A run
 * that ended at once rejected its input (a value the config schema lets through but the workflow
 * does not), which is a config error. Null: no answer yet, most likely no worker.
 */
async function confirmStarted(
  ctx: Context,
  client: Client,
  loop: LoopWorkflow,
  handle: WorkflowHandle,
): Promise<string | null> {
  try {
    return await client.withDeadline(Date.now() + CONFIRM_DEADLINE_MS, () => loop.runStateOf(handle));
  } catch {
    const description = await handle.describe().catch(() => null);
    if (description === null || description.status.name === 'RUNNING') return null;
    const failure = await handle.result().then(
      () => null,
      (err: unknown) => (err instanceof Error && err.cause instanceof Error ? err.cause : null),
    );
    const invalid = failure instanceof ApplicationFailure && failure.type === SagaFailureType.invalidInput;
    throw new CliError(
      invalid ? ExitCode.usage : ExitCode.failed,
      `the ${loop.label} of cluster ${ctx.cluster} ended at once (${description.status.name.toLowerCase()})` +
        `${failure ? `: ${failure.message}` : ''}; check the config`,
    );
  }
}

/** The current run's description, or null when the workflow was never started. */
export async function describeLoop(
  client: Client,
  loop: LoopWorkflow,
  cluster: string,
): Promise<WorkflowExecutionDescription | null> {
  try {
    return await client.workflow.getHandle(loop.workflowId(cluster)).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** A handle on the running workflow; refused (exit 3) when it is not running. */
export async function runningLoop(ctx: Context, client: Client, loop: LoopWorkflow): Promise<WorkflowHandle> {
  const description = await describeLoop(client, loop, ctx.cluster);
  if (description?.status.name !== 'RUNNING') {
    const was = description === null ? 'was never started' : `is ${description.status.name.toLowerCase()}`;
    throw new CliError(
      ExitCode.refused,
      `the ${loop.label} of cluster ${ctx.cluster} is not running (it ${was}); ` +
        `start it with: pve-autopilot ${loop.command} start`,
    );
  }
  return client.workflow.getHandle(loop.workflowId(ctx.cluster));
}

/**
 * Runs an update or a query on the workflow: a rejected update is a refusal (exit 3), and no answer
 * in time means no worker serves the workflow (exit 5) rather than a silent hang.
 */
export async function askLoop<Ret>(
  ctx: Context,
  client: Client,
  loop: LoopWorkflow,
  call: () => Promise<Ret>,
): Promise<Ret> {
  try {
    return await client.withDeadline(Date.now() + ANSWER_DEADLINE_MS, call);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(ExitCode.refused, `the ${loop.label} refused: ${err.cause?.message ?? err.message}`);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadline(err)) {
      throw noAnswer(ctx, loop);
    }
    throw err;
  }
}

function isDeadline(err: unknown): boolean {
  const text =
    err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : '';
  return /deadline/i.test(text);
}

function noAnswer(ctx: Context, loop: LoopWorkflow): CliError {
  return new CliError(
    ExitCode.unreachable,
    `the ${loop.label} did not answer within ${ANSWER_DEADLINE_MS / 1000} s: is a worker polling task queue ` +
      `${ctx.config.temporal.taskQueue}? (npm run worker)`,
  );
}

/** HH:MM:SS of an epoch-ms workflow time, in UTC like the Web UI's default. */
export function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}
