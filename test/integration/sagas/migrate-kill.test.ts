// The worker process dies (SIGKILL) in the middle of a migration and another one starts: the saga
// completes, and pve-sim's task list shows exactly one vzmigrate for the container.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { migrateContainerWorkflow } from '../../../workflows/sagas/migrate';
import { connectTestEnv, expectReplays, uniqueTaskQueue } from '../../support/temporal';
import { startTestSim, type TestSim } from '../../support/sim';
import { startWorkerProcess, type WorkerProcess } from '../../support/worker-process';
import { ctView, labScope, outcomeAttributes, outcomeOf, waitForStep } from '../../support/saga-env';

let env: TestWorkflowEnvironment;
let sim: TestSim;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  env = await connectTestEnv();
  // A slow clock, so each step lasts long enough to be killed in.
  sim = await startTestSim({ clock: { mode: 'realtime', speed: 2 } });
});
afterEach(async () => {
  await worker?.kill();
});
afterAll(async () => {
  await sim?.stop();
  await env?.teardown();
});

async function freshWorker(taskQueue: string): Promise<void> {
  await worker?.kill('SIGKILL');
  worker = startWorkerProcess({ sim: sim.sim, taskQueue });
  await worker.ready;
}

/** Kills the worker at `step`, noting the step only when the saga was still running then. */
async function killAt(handle: WorkflowHandle, taskQueue: string, step: string, killedAt: string[]) {
  await waitForStep(handle, step, 120_000);
  if ((await handle.describe()).status.name === 'RUNNING') killedAt.push(step);
  await freshWorker(taskQueue);
}

async function vzmigrates(vmid: number): Promise<number> {
  let n = 0;
  for (const node of ['srv-px1', 'srv-px2']) {
    const tasks = await sim.pve.tasks(node, { vmid, typefilter: 'vzmigrate', source: 'all' });
    n += tasks.filter((t) => t.type === 'vzmigrate').length;
  }
  return n;
}

function startMigration(taskQueue: string, vmid: number, target: string) {
  return env.client.workflow.start<typeof migrateContainerWorkflow>('migrateContainerWorkflow', {
    taskQueue,
    workflowId: `kill-${taskQueue}`,
    args: [{ vmid, target, scope: labScope }],
  });
}

// A kill during a quick activity costs its 30 s start-to-close timeout before the retry runs on the
// new worker; five kills in one run can take minutes on a loaded machine.
describe('migrate survives its worker being SIGKILLed', { timeout: 400_000 }, () => {
  it('at every step in turn: completes with exactly one vzmigrate', async () => {
    const taskQueue = uniqueTaskQueue('kill');
    const before = await ctView(sim, 1401);
    await freshWorker(taskQueue);
    const handle = await startMigration(taskQueue, 1401, 'srv-px2');
    const killedAt: string[] = [];
    for (const step of ['preflight', 'shutdown', 'migrate', 'start']) {
      await killAt(handle, taskQueue, step, killedAt);
    }
    // The verify is a few quick reads: they are slowed, so the kill lands inside it.
    const slow = await sim.admin<{ id: string }>('POST', '/_sim/faults', {
      method: 'GET',
      path: '/nodes/srv-px2/lxc/1401/status/current',
      latencyMs: 1500,
    });
    await killAt(handle, taskQueue, 'verify', killedAt);
    await sim.admin('DELETE', `/_sim/faults/${slow.id}`);
    const outcome = await outcomeOf(handle);
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded', node: 'srv-px2' } });
    expect(await outcomeAttributes(handle)).toMatchObject({ outcome: 'succeeded', needsAttention: false });
    expect(killedAt).toEqual(['preflight', 'shutdown', 'migrate', 'start', 'verify']);
    expect(await ctView(sim, 1401)).toEqual({ ...before, node: 'srv-px2' });
    expect(await vzmigrates(1401)).toBe(1);
    await expectReplays(handle, 'migrate-worker-killed-at-every-step');
  });

  it('while the migrate request is in flight: the retry adopts the task the lost answer started', async () => {
    const taskQueue = uniqueTaskQueue('kill-post');
    await freshWorker(taskQueue);
    // The sim holds the migrate POST for 3 s and then runs it: the worker dies before the answer.
    await sim.admin('POST', '/_sim/faults', {
      method: 'POST',
      path: '/nodes/srv-px2/lxc/1402/migrate',
      latencyMs: 3000,
      times: 1,
    });
    const handle = await startMigration(taskQueue, 1402, 'srv-px1');
    await waitForStep(handle, 'migrate', 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    await freshWorker(taskQueue);
    const outcome = await outcomeOf(handle);
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded', node: 'srv-px1' } });
    expect(await ctView(sim, 1402)).toMatchObject({ node: 'srv-px1', status: 'running' });
    expect(await vzmigrates(1402)).toBe(1);
  });
});
