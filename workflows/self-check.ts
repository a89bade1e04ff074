// selfCheckWorkflow: one activity round trip, run by `npm start` at boot and by the test harness,
// so an operator sees in the Web UI that the worker is alive and which versions it runs.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createSelfCheckActivities, WorkerDescription } from '../activities/self-check';

// Fast and few retries: if the worker cannot answer in seconds, something is wrong enough to report.
const { describeWorker } = proxyActivities<ReturnType<typeof createSelfCheckActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export interface SelfCheckResult {
  worker: WorkerDescription;
  workflowId: string;
  checkedAt: string;
}

export async function selfCheckWorkflow(): Promise<SelfCheckResult> {
  const worker = await describeWorker();
  return { worker, workflowId: workflowInfo().workflowId, checkedAt: new Date().toISOString() };
}
