// How a workflow refuses an update: a non-retryable ApplicationFailure of one type, so the caller
// (and the Web UI) reads it as a refusal with its reason, not as a transient error to retry.
import { ApplicationFailure } from '@temporalio/workflow';

export const INVALID_UPDATE = 'InvalidUpdate';

export function invalidUpdate(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_UPDATE, message, nonRetryable: true });
}
