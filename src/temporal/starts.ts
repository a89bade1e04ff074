// Typed starts of the container sagas, shared by the CLI, scripts and tests: input checked with zod
// before anything starts, the workflow id that allows one operation per container, a summary that
// reads well in the Web UI, and a clear refusal when the container is busy.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { z } from 'zod';
import {
  containerOperationId,
  describeIssues,
  dropInputSchema,
  runSummary,
  migrateInputSchema,
  provisionInputSchema,
  rollbackInputSchema,
  scaleInputSchema,
  snapshotInputSchema,
  type OperationKind,
} from '../domain';
import { PveOperation, PveVmid } from '../../workflows/search-attributes';

const operations = {
  migrate: { workflowType: 'migrateContainerWorkflow', schema: migrateInputSchema },
  scale: { workflowType: 'scaleContainerWorkflow', schema: scaleInputSchema },
  provision: { workflowType: 'provisionContainerWorkflow', schema: provisionInputSchema },
  drop: { workflowType: 'dropContainerWorkflow', schema: dropInputSchema },
  snapshot: { workflowType: 'snapshotContainerWorkflow', schema: snapshotInputSchema },
  rollback: { workflowType: 'rollbackContainerWorkflow', schema: rollbackInputSchema },
} as const satisfies Record<OperationKind, { workflowType: string; schema: z.ZodType }>;

export type OperationInput<K extends OperationKind> = z.input<(typeof operations)[K]['schema']>;

export function workflowTypeOf(operation: OperationKind): string {
  return operations[operation].workflowType;
}

export class InvalidOperationInputError extends Error {
  override name = 'InvalidOperationInputError';
}

export class ContainerBusyError extends Error {
  override name = 'ContainerBusyError';
  constructor(
    readonly vmid: number,
    readonly workflowId: string,
  ) {
    super(
      `CT ${vmid} is busy: another operation runs as workflow ${workflowId}; ` +
        'wait for it to finish (one operation per container at a time)',
    );
  }
}

export interface StartOptions {
  cluster: string;
  taskQueue: string;
  /** Why (the manager's rule, or "operator"), shown in the summary. */
  reason?: string;
}

export async function startOperation<K extends OperationKind>(
  client: Client,
  operation: K,
  input: OperationInput<K>,
  opts: StartOptions,
): Promise<WorkflowHandle> {
  const { workflowType, schema } = operations[operation];
  if ('scope' in input) {
    throw new InvalidOperationInputError(
      `invalid ${operation} input: scope: not accepted; the worker enforces the managed scope of its own configuration`,
    );
  }
  const parsed = (schema as z.ZodType).safeParse(input);
  if (!parsed.success) {
    throw new InvalidOperationInputError(`invalid ${operation} input: ${describeIssues(parsed.error)}`);
  }
  const args = parsed.data as Record<string, unknown>;
  // A provision too runs under the container's id: nothing else starts on a vmid being created.
  if (typeof args.vmid !== 'number') {
    throw new InvalidOperationInputError(
      `invalid ${operation} input: vmid: expected the vmid to create, allocated first (allocateVmid)`,
    );
  }
  const vmid = args.vmid;
  const workflowId = containerOperationId(opts.cluster, vmid);
  try {
    return await client.workflow.start(workflowType, {
      taskQueue: opts.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: runSummary(operation, {
        ...args,
        ...(opts.reason ? { reason: opts.reason } : {}),
      }),
      typedSearchAttributes: [
        { key: PveOperation, value: operation },
        { key: PveVmid, value: String(vmid) },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new ContainerBusyError(vmid, workflowId);
    }
    throw err;
  }
}
