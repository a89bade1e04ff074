// The self-hosted Temporal server process, and then PostgreSQL under it, restart while migrations
// and a cluster manager run on two worker processes: every workflow resumes where it was, the
// migrations end on their target with one vzmigrate each, and the manager keeps cycling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { migrateContainerWorkflow } from '../../workflows/sagas/migrate';
import type { clusterManagerWorkflow } from '../../workflows/cluster-manager';
import { managerStatusQuery, type ManagerInput } from '../../workflows/messages';
import { sagaProgressQuery } from '../../workflows/sagas/saga';
import { connectTestEnv, uniqueTaskQueue } from '../support/temporal';
import { startTestSim, type TestSim } from '../support/sim';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { labScope, labSettings, outcomeOf } from '../support/saga-env';
import { restartPostgres, restartTemporalServer } from './support/stack-control';
import { vzmigrates } from './support/workflows';

let env: TestWorkflowEnvironment;
let sim: TestSim;
let manager: WorkflowHandle<typeof clusterManagerWorkflow>;
const workers: WorkerProcess[] = [];
const taskQueue = uniqueTaskQueue('restart');

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestSim({ clock: { mode: 'realtime', speed: 0.5 } });
  for (let i = 0; i < 2; i++) workers.push(startWorkerProcess({ sim: sim.sim, taskQueue }));
  await Promise.all(workers.map((w) => w.ready));
  // recommend: it observes and decides every cycle but acts only on approval, so the migrations
  // are the tests' own.
  const input: ManagerInput = {
    cluster: `restart-${taskQueue}`,
    settings: labSettings,
    rules: { lab: { migratePercent: 8, dropPercent: 12 } },
    automation: 'recommend',
    cycleSeconds: 1,
    seed: 1,
  };
  manager = await env.client.workflow.start<typeof clusterManagerWorkflow>('clusterManagerWorkflow', {
    taskQueue,
    workflowId: `manager-${taskQueue}`,
    args: [input],
  });
});
afterAll(async () => {
  await manager?.terminate('test over').catch(() => undefined);
  await Promise.all(workers.map((w) => w.kill()));
  await sim?.stop();
  await env?.teardown();
});

async function cycle(): Promise<number> {
  return (await manager.query(managerStatusQuery)).cycle;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function migrate(vmid: number, target: string, run: string) {
  return env.client.workflow.start<typeof migrateContainerWorkflow>('migrateContainerWorkflow', {
    taskQueue,
    workflowId: `${run}-${vmid}-${taskQueue}`,
    args: [{ vmid, target, scope: labScope }],
  });
}

/** Starts two migrations, restarts something once one is migrating, and checks everything ends well. */
async function survives(run: string, moves: Array<[number, string]>, restart: () => Promise<void>) {
  await waitUntil('the manager to cycle', async () => (await cycle()) >= 1, 60_000);
  const handles = await Promise.all(moves.map(([vmid, target]) => migrate(vmid, target, run)));
  await waitUntil(
    'a migration in its migrate step',
    async () => (await handles[0]!.query(sagaProgressQuery)).steps.includes('migrate'),
    120_000,
  );
  const cycleBefore = await cycle();
  await restart();
  const outcomes = await Promise.all(handles.map((h) => outcomeOf(h)));
  moves.forEach(([, target], i) =>
    expect(outcomes[i]).toMatchObject({ ok: true, result: { outcome: 'succeeded', node: target } }),
  );
  // The manager resumed too: it cycles past where it was when the restart began.
  await waitUntil(
    'the manager to cycle after the restart',
    async () => (await cycle()) >= cycleBefore + 3,
    90_000,
  );
  expect((await manager.describe()).status.name).toBe('RUNNING');
  for (const w of workers) expect(w.child.exitCode).toBeNull();
}

describe('restarts under running workflows', { timeout: 400_000 }, () => {
  it('the Temporal server process restarts: migrations and the manager resume', async () => {
    await survives(
      'server-restart',
      [
        [1401, 'srv-px2'],
        [1402, 'srv-px1'],
      ],
      restartTemporalServer,
    );
    expect(await vzmigrates(sim, 1401)).toBe(1);
    expect(await vzmigrates(sim, 1402)).toBe(1);
  });

  it('PostgreSQL restarts under the server: migrations and the manager resume', async () => {
    await survives(
      'postgres-restart',
      [
        [1401, 'srv-px1'],
        [1402, 'srv-px2'],
      ],
      () => restartPostgres(5000),
    );
    expect(await vzmigrates(sim, 1401)).toBe(2);
    expect(await vzmigrates(sim, 1402)).toBe(2);
  });
});
