// How the long-running workflows (generator, cluster manager) run container sagas: as child workflows
// started by type name, and how a finished child's outcome reads in their status.
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { refusalMessage, runSummary, type OperationKind, type OperationResult } from '../src/domain';
import { failureText, SagaFailureType } from './sagas/saga';

export type SagaType =
  | 'migrateContainerWorkflow'
  | 'dropContainerWorkflow'
  | 'scaleContainerWorkflow'
  | 'provisionContainerWorkflow';

export type SagaWorkflow<I> = (input: I) => Promise<OperationResult>;

/** What the parent needs of a started saga, whatever its input type. */
export interface SagaHandle {
  readonly workflowId: string;
  /** Read it as `failIfRefused(await handle.result())`: a refused saga completes. */
  result(): Promise<OperationResult>;
}

/**
 * A refused saga completes with a `refused` result (older runs failed with Refused): a parent counts
 * it with the failures either way (its cooldown, counters, status detail `Refused: ...`), so this
 * throws the Refused failure those runs ended with. Called right after the await, not chained to the
 * result's promise, so that the parent's code runs on the same turns as before (replay).
 */
export function failIfRefused(result: OperationResult): OperationResult {
  if (result.outcome !== 'refused') return result;
  throw ApplicationFailure.create({
    type: SagaFailureType.refused,
    message: refusalMessage(result),
    nonRetryable: true,
    details: [result],
  });
}

/**
 * ABANDON: a saga terminated halfway runs no compensation, so when its parent is terminated, reset
 * or times out, the saga is left to finish, verify and roll back on its own.
 */
export function startSaga<I extends object>(
  type: SagaType,
  input: I,
  workflowId: string,
): Promise<SagaHandle> {
  return startChild<SagaWorkflow<I>>(type, {
    workflowId,
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: runSummary(operationOf[type], input as Record<string, unknown>),
  });
}

const operationOf: Record<SagaType, OperationKind> = {
  migrateContainerWorkflow: 'migrate',
  dropContainerWorkflow: 'drop',
  scaleContainerWorkflow: 'scale',
  provisionContainerWorkflow: 'provision',
};

/** True when another run holds the workflow id: an operation on that container is in flight. */
export function isAlreadyStarted(err: unknown): boolean {
  return err instanceof WorkflowExecutionAlreadyStartedError;
}

/** `Refused: migrate of CT 1401 refused: ...`: the saga's failure type first, as the CLI filters on it. */
export function sagaFailureText(err: unknown): string {
  const cause = err instanceof ChildWorkflowFailure || err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return failureText(err);
}
