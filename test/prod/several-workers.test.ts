// Three worker processes share one task queue on the self-hosted server. The one running the
// migration's task wait is SIGKILLed and not replaced: after the activity's heartbeat timeout
// another worker takes the retry, resumes waiting on the same UPID, and the saga ends as it should
// with exactly one vzmigrate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { migrateContainerWorkflow } from '../../workflows/sagas/migrate';
import { connectTestEnv, uniqueTaskQueue } from '../support/temporal';
import { startTestSim, type TestSim } from '../support/sim';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { ctView, labScope, outcomeOf } from '../support/saga-env';
import { sagaProgressQuery } from '../../workflows/sagas/saga';
import { completedBy, vzmigrates, waitForPendingActivity } from './support/workflows';

let env: TestWorkflowEnvironment;
let sim: TestSim;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  env = await connectTestEnv();
  // A slow clock, so the migration task (5-30 simulated s) runs long enough to kill its worker in it.
  sim = await startTestSim({ clock: { mode: 'realtime', speed: 0.5 } });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await sim?.stop();
  await env?.teardown();
});

describe('several workers on one task queue', { timeout: 300_000 }, () => {
  it('a worker SIGKILLed mid-migration: another retries the task wait, one vzmigrate, success', async () => {
    const taskQueue = uniqueTaskQueue('workers');
    for (let i = 0; i < 3; i++) workers.push(startWorkerProcess({ sim: sim.sim, taskQueue }));
    await Promise.all(workers.map((w) => w.ready));
    const before = await ctView(sim, 1401);
    const handle: WorkflowHandle<typeof migrateContainerWorkflow> = await env.client.workflow.start(
      'migrateContainerWorkflow',
      {
        taskQueue,
        workflowId: `several-workers-${taskQueue}`,
        args: [{ vmid: 1401, target: 'srv-px2', scope: labScope }],
      },
    );

    // The wait on the vzmigrate UPID (the awaitTask of the migrate step): its worker is the one to kill.
    const pending = await waitForPendingActivity(
      handle,
      async (a) =>
        a.type === 'awaitTask' &&
        a.started &&
        (await handle.query(sagaProgressQuery)).steps.at(-1) === 'migrate',
      120_000,
    );
    const victim = workers.find((w) => pending.identity.startsWith(`${w.child.pid}@`));
    expect(victim, `worker ${pending.identity} is one of ours`).toBeDefined();
    await victim?.kill('SIGKILL');

    const outcome = await outcomeOf(handle);
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded', node: 'srv-px2' } });
    expect(await ctView(sim, 1401)).toEqual({ ...before, node: 'srv-px2' });
    expect(await vzmigrates(sim, 1401)).toBe(1);
    // The wait ended on a surviving worker, on a retry (the heartbeat timeout expired the first).
    const last = await completedBy(handle, pending.activityId);
    expect(last.identity).not.toBe(pending.identity);
    expect(workers.some((w) => w !== victim && last.identity.startsWith(`${w.child.pid}@`))).toBe(true);
    expect(last.attempt).toBeGreaterThanOrEqual(2);
  });
});
