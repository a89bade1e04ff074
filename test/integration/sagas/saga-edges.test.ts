// Edges of the container sagas, each a defect once reproduced on pve-sim: a vmid reused while a drop
// ran, a goal someone else reached first, compensation tasks that fail, a stale digest during a
// rollback, a first read that fails, a lost migrate answer, an offline source node.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createProxmoxActivities } from '../../../activities/proxmox';
import { createPveClient, waitForTask, type PveClient } from '../../../src/proxmox';
import type { dropContainerWorkflow } from '../../../workflows/sagas/drop';
import type { migrateContainerWorkflow } from '../../../workflows/sagas/migrate';
import type { scaleContainerWorkflow } from '../../../workflows/sagas/scale';
import {
  ctView,
  labScope,
  outcomeAttributes,
  outcomeOf,
  startSagaEnv,
  waitForStep,
  type SagaEnv,
} from '../../support/saga-env';
import { createTestWorker, uniqueTaskQueue } from '../../support/temporal';

const template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});
// A case that fails half-way must not leave its faults behind to stall the cases after it.
afterEach(async () => {
  await s.sim.admin('DELETE', '/_sim/faults');
});

const fault = (body: Record<string, unknown>) => s.sim.admin<{ id: string }>('POST', '/_sim/faults', body);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function finish(node: string, upid: string): Promise<void> {
  const done = await waitForTask(s.sim.pve, node, upid, { pollMs: 50 });
  if (done.exitstatus !== 'OK') throw new Error(`${upid} ended ${done.exitstatus}`);
}

async function tasksOf(node: string, vmid: number, type: string) {
  const tasks = await s.sim.pve.tasks(node, { vmid, typefilter: type, source: 'all' });
  return tasks.filter((t) => t.type === type);
}

async function counter(key: string): Promise<number> {
  return (await s.sim.admin<Record<string, number>>('GET', '/_sim/counters'))[key] ?? 0;
}

/** A running CT of the test's own, so cases do not depend on each other's leftovers. */
async function freshContainer(vmid: number, node = 'srv-px1', hostname = `edge-${vmid}`) {
  await finish(
    node,
    await s.sim.pve.createContainer(node, {
      vmid,
      ostemplate: template,
      hostname,
      memory: 256,
      swap: 0,
      cores: 1,
      rootfs: 'local-lvm:4',
    }),
  );
  await finish(node, await s.sim.pve.startContainer(node, vmid));
}

/** A worker of its own on another task queue, with its own Proxmox client. */
async function extraWorker(
  pve: PveClient,
): Promise<{ taskQueue: string; worker: Worker; done: Promise<void> }> {
  const taskQueue = uniqueTaskQueue('edge');
  const activities = createProxmoxActivities({
    pve,
    scope: labScope,
    taskPollMs: 100,
    vmidQuarantineMinutes: 10,
  });
  const worker = await createTestWorker(s.env, { taskQueue, activities });
  return { taskQueue, worker, done: worker.run() };
}

describe('test support', () => {
  it('ctView reads a CT destroyed between its listing and its config read as gone', async () => {
    const vmid = 1465;
    await freshContainer(vmid);
    await finish('srv-px1', await s.sim.pve.stopContainer('srv-px1', vmid));
    // The config read is held 1 s; the CT is destroyed while it waits.
    await fault({ method: 'GET', path: `/nodes/srv-px1/lxc/${vmid}/config`, latencyMs: 1000, times: 1 });
    const view = ctView(s.sim, vmid);
    await pause(200);
    await finish('srv-px1', await s.sim.pve.destroyContainer('srv-px1', vmid, { purge: true }));
    expect(await view).toBeNull();
  });
});

describe('vmid reuse', () => {
  it('a drop whose CT was destroyed and replaced by another before its verify reports succeeded and leaves the new one alone', async () => {
    const vmid = 1460;
    await freshContainer(vmid, 'srv-px1');
    // The destroy request is held 1 s, so the slowed task polls below are in place before it runs.
    await fault({ method: 'DELETE', path: `/nodes/srv-px1/lxc/${vmid}`, latencyMs: 1000, times: 1 });
    const handle = await s.startSaga<typeof dropContainerWorkflow>('dropContainerWorkflow', {
      vmid,
      mode: 'destroy',
    });
    await s.run(() => waitForStep(handle, 'destroy'));
    // The saga's task polls are held, so between the end of its destroy and its verify someone
    // else creates a new CT with the same vmid on the other node.
    const slow = await fault({ method: 'GET', path: '/nodes/{node}/tasks/{upid}/status', latencyMs: 1500 });
    const deadline = Date.now() + 20_000;
    while ((await ctView(s.sim, vmid)) !== null) {
      if (Date.now() > deadline) throw new Error(`CT ${vmid} was never destroyed`);
      await pause(50);
    }
    await s.sim.admin('DELETE', `/_sim/faults/${slow.id}`);
    await finish(
      'srv-px2',
      await s.sim.pve.createContainer('srv-px2', {
        vmid,
        ostemplate: template,
        hostname: 'someone-elses',
        memory: 256,
        swap: 0,
        cores: 1,
        rootfs: 'local-lvm:4',
        description: 'created-by: someone-else',
      }),
    );
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded' } });
    expect(await outcomeAttributes(handle)).toMatchObject({ outcome: 'succeeded', needsAttention: false });
    // The new container is untouched: still stopped where it was made, never started.
    expect(await ctView(s.sim, vmid)).toMatchObject({ node: 'srv-px2', status: 'stopped' });
    expect(await tasksOf('srv-px2', vmid, 'vzstart')).toHaveLength(0);
    await finish('srv-px2', await s.sim.pve.destroyContainer('srv-px2', vmid, { purge: true }));
  });
});

describe('a goal that already holds', () => {
  it('drop mode stop: a CT someone else stops during the shutdown request ends succeeded, not restarted', async () => {
    const vmid = 1461;
    await freshContainer(vmid);
    // The shutdown POST is held 1.5 s; meanwhile someone else stops the CT, so PVE answers
    // "CT 1461 not running" to the saga's request.
    await fault({
      method: 'POST',
      path: `/nodes/srv-px1/lxc/${vmid}/status/shutdown`,
      latencyMs: 1500,
      times: 1,
    });
    const handle = await s.startSaga<typeof dropContainerWorkflow>('dropContainerWorkflow', {
      vmid,
      mode: 'stop',
    });
    await s.run(() => waitForStep(handle, 'shutdown'));
    // Past the request's own status read, while its POST is held.
    await pause(400);
    await finish('srv-px1', await s.sim.pve.stopContainer('srv-px1', vmid));
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded' } });
    expect(await outcomeAttributes(handle)).toMatchObject({ outcome: 'succeeded', needsAttention: false });
    expect(await ctView(s.sim, vmid)).toMatchObject({ node: 'srv-px1', status: 'stopped' });
    // Started once by the test, never again by a compensation.
    expect(await tasksOf('srv-px1', vmid, 'vzstart')).toHaveLength(1);
  });
});

describe('compensation is patient with failed tasks', () => {
  it('migrate: a failed start on the target, then a failed move back, still ends rolled back', async () => {
    const vmid = 1462;
    await freshContainer(vmid);
    const before = await ctView(s.sim, vmid);
    await fault({ taskType: 'vzstart', times: 1 });
    const handle = await s.startSaga<typeof migrateContainerWorkflow>('migrateContainerWorkflow', {
      vmid,
      target: 'srv-px2',
    });
    // The forward migration has run once the saga starts on the target: the next one is the move back.
    await s.run(() => waitForStep(handle, 'start'));
    await fault({ taskType: 'vzmigrate', times: 1 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: false, type: 'RolledBack' });
    expect(await outcomeAttributes(handle)).toMatchObject({ outcome: 'rolled-back', needsAttention: false });
    expect(await ctView(s.sim, vmid)).toEqual(before);
    // Forward, the failed move back, the move back again.
    expect(await tasksOf('srv-px1', vmid, 'vzmigrate')).toHaveLength(1);
    expect((await tasksOf('srv-px2', vmid, 'vzmigrate')).map((t) => t.status)).toEqual([
      'OK',
      'migration aborted',
    ]);
  }, 240_000);
});

describe('a stale config digest', () => {
  it('scale: a config change during the rollback is re-read and the rollback applied, not retried as it was', async () => {
    const vmid = 1463;
    await freshContainer(vmid);
    const before = await ctView(s.sim, vmid);
    if (!before) throw new Error('no CT');
    const handle = await s.startSaga<typeof scaleContainerWorkflow>('scaleContainerWorkflow', {
      vmid,
      memoryMiB: 512,
      settleSeconds: 2,
    });
    await s.run(() => waitForStep(handle, 'settle'));
    // The verify cannot read the CT (six failed reads), so the saga rolls back; the rollback's
    // config PUT is held 3 s, and someone else edits the description meanwhile.
    await fault({ method: 'GET', path: `/nodes/srv-px1/lxc/${vmid}/status/current`, status: 500, times: 6 });
    await fault({ method: 'PUT', path: `/nodes/srv-px1/lxc/${vmid}/config`, latencyMs: 3000, times: 1 });
    const puts = await counter('PUT /nodes/{node}/lxc/{vmid}/config');
    await s.run(() => waitForStep(handle, 'compensate'));
    await pause(1000);
    const { digest } = await s.sim.pve.containerConfig('srv-px1', vmid);
    await s.sim.pve.updateConfig('srv-px1', vmid, { description: 'edited by someone else' }, digest);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: false, type: 'RolledBack' });
    expect(await outcomeAttributes(handle)).toMatchObject({ outcome: 'rolled-back', needsAttention: false });
    expect(await ctView(s.sim, vmid)).toEqual(before);
    // The stale PUT, then one with the digest read again (plus the test's own edit).
    expect((await counter('PUT /nodes/{node}/lxc/{vmid}/config')) - puts).toBeLessThanOrEqual(3);
  }, 300_000);
});

describe('every saga ends with an outcome', () => {
  it('six 503s on the first read: refused, with PveOutcome set', async () => {
    await fault({ method: 'GET', path: '/cluster/resources', status: 503, times: 6 });
    const handle = await s.startSaga<typeof migrateContainerWorkflow>('migrateContainerWorkflow', {
      vmid: 1400,
      target: 'srv-px2',
    });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      ok: false,
      type: 'Refused',
      message: expect.stringMatching(/Service Unavailable/),
    });
    expect(outcome.ok ? '' : outcome.message).not.toMatch(/: ;|: $/);
    expect(await outcomeAttributes(handle)).toEqual({
      status: 'COMPLETED',
      outcome: 'refused',
      needsAttention: false,
    });
  });

  it('a worker without the CA: refused, with PveOutcome set', async () => {
    const { sim } = s.sim;
    const pve = createPveClient({
      host: sim.host,
      port: sim.port,
      schema: 'https',
      tokenId: sim.token.id,
      tokenSecret: sim.token.secret,
    });
    const extra = await extraWorker(pve);
    try {
      const handle = await s.env.client.workflow.start<typeof dropContainerWorkflow>(
        'dropContainerWorkflow',
        {
          taskQueue: extra.taskQueue,
          workflowId: `no-ca-${extra.taskQueue}`,
          args: [{ vmid: 1400, mode: 'stop', scope: labScope }],
        },
      );
      const outcome = await Promise.race([outcomeOf(handle), extra.done.then(() => null)]);
      expect(outcome).toMatchObject({ ok: false, type: 'Refused' });
      expect(await outcomeAttributes(handle)).toMatchObject({ status: 'COMPLETED', outcome: 'refused' });
      expect(await ctView(s.sim, 1400)).toMatchObject({ status: 'running' });
    } finally {
      extra.worker.shutdown();
      await extra.done;
      await pve.close();
    }
  });
});

describe('migrate preflight and requests', () => {
  it('refuses while the source node is offline, before any change', async () => {
    await s.sim.admin('POST', '/_sim/nodes/srv-px2/offline');
    try {
      const handle = await s.startSaga<typeof migrateContainerWorkflow>('migrateContainerWorkflow', {
        vmid: 1402,
        target: 'srv-px1',
      });
      const outcome = await s.run(() => outcomeOf(handle));
      expect(outcome).toMatchObject({
        ok: false,
        type: 'Refused',
        message: expect.stringMatching(/srv-px2 .*offline/),
      });
    } finally {
      await s.sim.admin('POST', '/_sim/nodes/srv-px2/online');
    }
  });

  it('a lost migrate answer whose migration then failed never leads to a second migration', async () => {
    const vmid = 1464;
    await freshContainer(vmid);
    const before = await ctView(s.sim, vmid);
    const { sim } = s.sim;
    // This worker's client gives up on a call after 1 s; the migrate POST is held 1.2 s and then
    // runs, so the worker never hears of the migration it started, which fails before the
    // request's retry (1 s after the timeout) looks.
    const pve = createPveClient({
      host: sim.host,
      port: sim.port,
      schema: 'https',
      tokenId: sim.token.id,
      tokenSecret: sim.token.secret,
      caFile: sim.caFile,
      timeoutMs: 1000,
    });
    const extra = await extraWorker(pve);
    await fault({ method: 'POST', path: `/nodes/srv-px1/lxc/${vmid}/migrate`, latencyMs: 1200, times: 1 });
    await fault({ taskType: 'vzmigrate', times: 1 });
    let handle: WorkflowHandle | undefined;
    try {
      handle = await s.env.client.workflow.start<typeof migrateContainerWorkflow>(
        'migrateContainerWorkflow',
        {
          taskQueue: extra.taskQueue,
          workflowId: `lost-answer-${extra.taskQueue}`,
          args: [{ vmid, target: 'srv-px2', scope: labScope }],
        },
      );
      const outcome = await outcomeOf(handle);
      expect(outcome).toMatchObject({ ok: false, type: 'RolledBack' });
    } finally {
      extra.worker.shutdown();
      await extra.done;
      await pve.close();
    }
    expect(await tasksOf('srv-px1', vmid, 'vzmigrate')).toHaveLength(1);
    expect(await ctView(s.sim, vmid)).toEqual(before);
  }, 180_000);
});
