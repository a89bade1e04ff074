import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSelfCheckActivities } from '../../activities/self-check';
import { sdkVersion } from '../../worker/create-worker';
import { connectTestEnv, createTestWorker, expectReplays, uniqueTaskQueue } from '../support/temporal';
import type { selfCheckWorkflow } from '../../workflows/self-check';

describe('self-check round trip on a real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs the workflow, its activity on the worker, and the history replays deterministically', async () => {
    const taskQueue = uniqueTaskQueue('self-check');
    const worker = await createTestWorker(env, {
      taskQueue,
      activities: createSelfCheckActivities({ taskQueue, sdkVersion }),
    });
    const handle = await env.client.workflow.start<typeof selfCheckWorkflow>('selfCheckWorkflow', {
      taskQueue,
      workflowId: `self-check-test-${taskQueue}`,
    });
    const result = await worker.runUntil(handle.result());
    expect(result.worker.taskQueue).toBe(taskQueue);
    expect(result.worker.sdkVersion).toBe('1.24.0');
    expect(result.workflowId).toBe(`self-check-test-${taskQueue}`);

    const history = await handle.fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    expect(types).toContain(10); // EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    await expectReplays(handle, 'self-check');
  });
});
