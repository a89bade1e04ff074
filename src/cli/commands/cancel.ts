// `pve-autopilot cancel <vmid|workflow-id>`: cancel the operation running on a container through
// Temporal's cancellation (the saga compensates), follow it to its end and report the outcome with
// the usual exit codes. Nothing running there is a refusal (3), not a silent success.
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { containerOperationId, operationKinds, type OperationResult } from '../../domain';
import { workflowTypeOf } from '../../temporal/starts';
import { PveNode, PveOperation, PveOutcome, PveVmid } from '../../../workflows/search-attributes';
import { SagaFailureType } from '../../../workflows/sagas/saga';
import type { Command } from '../args';
import type { Context } from '../context';
import { CliError, ExitCode, UsageError } from '../exit-codes';
import { line, printJson } from '../output';
import { CANCELLED, follow, report, type Ending } from './saga';

type CancelCommand = Extract<Command, { name: 'cancel' }>;

const sagaTypes = new Set<string>(operationKinds.map(workflowTypeOf));

export async function cancelCommand(ctx: Context, command: CancelCommand): Promise<number> {
  const { target } = command;
  const workflowId = 'vmid' in target ? containerOperationId(ctx.cluster, target.vmid) : target.workflowId;
  const what = 'vmid' in target ? `CT ${target.vmid}` : `workflow ${workflowId}`;
  const client = await ctx.temporal();
  const handle = client.workflow.getHandle(workflowId);

  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CliError(
        ExitCode.refused,
        `cancel: no operation on ${what}: ${workflowId} was never started`,
      );
    }
    throw err;
  }
  if (!sagaTypes.has(description.type)) {
    throw new UsageError(
      `cancel: ${workflowId} is a ${description.type}, not a container operation (stop it with its own stop command)`,
      'cancel',
    );
  }
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      ExitCode.refused,
      `cancel: no operation running on ${what}: the last one, ${workflowId}, is ${description.status.name.toLowerCase()}`,
    );
  }

  const summary = (await description.staticSummary()) ?? `${description.type} ${workflowId}`;
  const url = ctx.workflowUrl(workflowId);
  await handle.cancel();
  if (!ctx.global.json) {
    line(ctx.io.stdout, `Cancelling: ${summary}`);
    line(ctx.io.stdout, `  workflow ${workflowId}  ${url}`);
  }
  if (!ctx.global.wait) {
    if (ctx.global.json) printJson(ctx.io, { workflowId, url, outcome: 'cancelling' });
    return ExitCode.ok;
  }
  const ending = await follow(ctx, client, handle, summary);
  if (ending === 'interrupted') {
    line(ctx.io.stderr, `Stopped waiting; the cancellation goes on: ${url}`);
    return 130;
  }
  return report(ctx, handle, url, await cancelledEnding(handle, summary, ending));
}

/**
 * A saga that compensated after a cancel ends cancelled, with its outcome in PveOutcome: report it
 * as the rolled-back (or needs-attention, or succeeded when its goal held anyway) ending it is. One
 * that finished before the cancel took reports as such.
 */
async function cancelledEnding(
  handle: { describe(): Promise<WorkflowExecutionDescription> },
  summary: string,
  ending: Ending,
): Promise<Ending> {
  if (ending.ok || ending.type !== CANCELLED) return ending;
  const attributes = (await handle.describe()).typedSearchAttributes;
  const outcome = attributes.get(PveOutcome);
  if (outcome === 'succeeded') {
    const operation = attributes.get(PveOperation);
    const result: OperationResult = {
      operation: operationKinds.find((k) => k === operation) ?? 'migrate',
      outcome: 'succeeded',
      vmid: Number(attributes.get(PveVmid) ?? 0),
      node: attributes.get(PveNode) ?? '',
      steps: [],
      detail: `cancelled, but ${summary} had reached its goal`,
    };
    return { ok: true, result };
  }
  if (outcome === 'needs-attention') {
    return {
      ...ending,
      type: SagaFailureType.needsAttention,
      message: `Cancelled: ${summary}, and it needs attention`,
    };
  }
  const how = outcome === 'rolled-back' ? 'rolled back' : 'ended before it changed anything';
  return { ...ending, type: SagaFailureType.rolledBack, message: `Cancelled: ${summary}, ${how}` };
}
