// One activity proxy per timeout/retry profile, each with the reason for its numbers. Failures the
// activities mark non-retryable (the Proxmox taxonomy, our own refusals) end retries at once anyway;
// the lists below name them so the policy reads complete in the Web UI.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ProxmoxActivities } from '../../activities/proxmox';
import { nonRetryableErrorTypes } from '../../src/domain';

/**
 * Final failure types: the Proxmox taxonomy's non-retryable kinds (credentials, missing things, bad
 * input, a task that ran and failed), and the activities' own refusals.
 */
export const finalFailureTypes = [
  ...nonRetryableErrorTypes,
  'NotManaged',
  'VmidTaken',
  'ContainerMoved',
  'SnapshotMissing',
];

// Reads and task requests: quick calls. Six attempts over about 30 s ride out a pveproxy restart or a
// dropped connection; an API that stays broken longer fails the step, and the saga compensates.
const quick = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '8 seconds',
    maximumAttempts: 6,
    nonRetryableErrorTypes: finalFailureTypes,
  },
} as const;

/** Reads of cluster and container state. */
export const reads = proxyActivities<ProxmoxActivities>(quick);

/**
 * Requests that start a PVE task: ensure-style, so a retry after a lost answer adopts the task. A
 * cancelled saga waits for the request in flight to finish: its POST may still start a task, and
 * the compensation must not act before it knows.
 */
export const requests = proxyActivities<ProxmoxActivities>({
  ...quick,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Config updates guarded by a digest. A stale digest means someone else changed the config since the
 * saga read it: retrying the same digest cannot help, so it is final here and the saga re-reads.
 */
export const configUpdates = proxyActivities<ProxmoxActivities>({
  ...quick,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...quick.retry, nonRetryableErrorTypes: [...finalFailureTypes, 'PveStaleDigest'] },
});

/**
 * Waiting on a PVE task (a migration of a large disk can take many minutes). The heartbeat timeout is
 * what notices a dead worker: the retry, on another worker, resumes polling the same UPID.
 */
export const waits = proxyActivities<ProxmoxActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: finalFailureTypes,
  },
});

/**
 * Compensation: more patient than the forward path, because giving up here leaves a container in a
 * state a human has to repair. About 3 minutes of retries before the saga asks for attention.
 */
export const compensations = proxyActivities<ProxmoxActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '20 seconds',
    maximumAttempts: 12,
    // A stale digest is re-read by the saga (retrying the same digest cannot help).
    nonRetryableErrorTypes: [...finalFailureTypes, 'PveStaleDigest'],
  },
});
