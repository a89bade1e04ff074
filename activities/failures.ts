// The one place where activity errors become Temporal failures: PveErrors keep their taxonomy type
// and retryability; our own refusals get types the sagas and retry policies name.
import { ApplicationFailure } from '@temporalio/common';
import { isPveError, toApplicationFailure } from '../src/proxmox';

/** Failure types raised by the activities themselves (not by Proxmox). All are final. */
export const ActivityFailureType = {
  notManaged: 'NotManaged',
  vmidTaken: 'VmidTaken',
  containerMoved: 'ContainerMoved',
  snapshotMissing: 'SnapshotMissing',
} as const;

export function refuse(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Runs an activity body; a PveError leaves as an ApplicationFailure typed from the taxonomy. */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (!isPveError(err)) throw err;
    // A task that ran and ended badly stays failed however often it is polled: never retry that.
    if (err.exitstatus !== undefined) {
      return Promise.reject(
        ApplicationFailure.create({
          type: err.failureType,
          message: err.message,
          nonRetryable: true,
          details: [err.details()],
        }),
      );
    }
    throw toApplicationFailure(err);
  }
}
