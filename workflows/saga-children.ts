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
import { runSummary, type OperationKind, type OperationResult } from '../src/domain';
import { failureText } from './sagas/saga';

export type SagaType =
  | 'migrateContainerWorkflow'
  | 'dropContainerWorkflow'
  | 'scaleContainerWorkflow'
  | 'provisionContainerWorkflow';

export type SagaWorkflow<I> = (input: I) => Promise<OperationResult>;

/** What the parent needs of a started saga, whatever its input type. */
export interface SagaHandle {
  readonly workflowId: string;
  result(): Promise<OperationResult>;
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
