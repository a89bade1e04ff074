// The worker process dies (SIGKILL) in the middle of a drain and another one starts: the drain picks
// up where it was, every managed container leaves the node, each with exactly one vzmigrate.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { nodeDrainWorkflowId } from '../../workflows/messages';
import {
  nodeDrainStatusQuery,
  undrainNodeUpdate,
  type NodeDrainInput,
  type NodeDrainState,
} from '../../workflows/node-drain-messages';
import { connectTestEnv, expectReplays, uniqueTaskQueue } from '../support/temporal';
import { startTestSim, vzmigrates, type TestSim } from '../support/sim';
import { replaceWorker, startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { labScope, labSettings } from '../support/saga-env';
import { waitFor } from '../support/manual-clock';

const PX1 = 'srv-px1';

let env: TestWorkflowEnvironment;
let sim: TestSim;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  env = await connectTestEnv();
  // A slow clock, so the kill lands while migrations are under way.
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
  worker = await replaceWorker(worker, () => startWorkerProcess({ sim: sim.sim, taskQueue }));
}

// A kill during a quick activity costs its 30 s start-to-close timeout before the retry runs.
describe('a drain survives its worker being SIGKILLed', { timeout: 400_000 }, () => {
  it('mid-evacuation: every managed container still leaves srv-px1, each with one vzmigrate', async () => {
    const taskQueue = uniqueTaskQueue('drain-kill');
    const cluster = `dk-${taskQueue.slice(-8)}`;
    await freshWorker(taskQueue);
    const input: NodeDrainInput = { cluster, node: PX1, parallel: 1, settings: labSettings };
    const handle = await env.client.workflow.start('nodeDrainWorkflow', {
      taskQueue,
      workflowId: nodeDrainWorkflowId(cluster, PX1),
      args: [input],
    });
    const state = () => handle.query(nodeDrainStatusQuery).catch(() => undefined);
    // The first move under way: the kill lands inside a running child saga.
    const during = await waitFor(
      'a migration in flight',
      async () => {
        const st = await state();
        return st && st.inFlight.length > 0 ? st : undefined;
      },
      120_000,
    );
    expect(during.phase).toBe('evacuating');
    await freshWorker(taskQueue);
    const drained = await waitFor(
      'the drain to finish after the kill',
      async () => {
        const st = await state();
        return st?.phase === 'drained' ? st : undefined;
      },
      300_000,
    );
    const left = (await sim.pve.clusterResources('vm')).filter(
      (g) => g.type === 'lxc' && g.node === PX1 && (g.vmid ?? 0) >= labScope.vmidMin,
    );
    expect(left).toEqual([]);
    expect(drained.moved.map((m) => m.vmid).sort()).toEqual([1400, 1401]);
    expect(drained.failures).toEqual([]);
    expect(await vzmigrates(sim, 1400)).toBe(1);
    expect(await vzmigrates(sim, 1401)).toBe(1);
    const ended = await handle.executeUpdate(undrainNodeUpdate);
    expect(ended.phase).toBe('undrained');
    expect(((await handle.result()) as NodeDrainState).phase).toBe('undrained');
    await expectReplays(handle);
  });
});
