// Activities that describe the worker itself: the first round trip through Temporal, proving that a
// worker polls the task queue and runs activities.
import { hostname } from 'node:os';

export interface WorkerDescription {
  taskQueue: string;
  /** pid@host, as Temporal names worker identities. */
  identity: string;
  nodeVersion: string;
  sdkVersion: string;
}

export function createSelfCheckActivities(deps: { taskQueue: string; sdkVersion: string }) {
  return {
    async describeWorker(): Promise<WorkerDescription> {
      return {
        taskQueue: deps.taskQueue,
        identity: `${process.pid}@${hostname()}`,
        nodeVersion: process.version,
        sdkVersion: deps.sdkVersion,
      };
    },
  };
}
