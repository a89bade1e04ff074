// The scale saga on pve-sim: a live change verified in status/current, the no-op, refusals, and a
// fault at each step (the config PUT, the node going offline, an OOM kill under the new limits).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { scaleContainerWorkflow } from '../../../workflows/sagas/scale';
import { sagaProgressQuery } from '../../../workflows/sagas/saga';
import type { ScaleInput } from '../../../src/domain';
import { waitForTask } from '../../../src/proxmox';
import { ctView, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { expectReplays } from '../../support/temporal';

const MiB = 1024 * 1024;
const template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

function startScale(input: Omit<ScaleInput, 'scope'>) {
  return s.startSaga<typeof scaleContainerWorkflow>('scaleContainerWorkflow', input);
}

async function waitForStep(handle: WorkflowHandle, step: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (!(await handle.query(sagaProgressQuery)).steps.includes(step)) {
    if (Date.now() > until) throw new Error(`the saga never reached step ${step}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function configPuts(): Promise<number> {
  const counters = await s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
  return counters['PUT /nodes/{node}/lxc/{vmid}/config'] ?? 0;
}

async function view(vmid: number) {
  const v = await ctView(s.sim, vmid);
  if (!v) throw new Error(`CT ${vmid} is missing from the scenario`);
  return v;
}

async function finish(node: string, upid: string): Promise<void> {
  const done = await waitForTask(s.sim.pve, node, upid, { pollMs: 50 });
  if (done.exitstatus !== 'OK') throw new Error(`${upid} ended ${done.exitstatus}`);
}

describe('scaleContainerWorkflow', () => {
  it('changes cores, memory and swap live and verifies them in status/current', async () => {
    const before = await view(1401);
    expect(before.status).toBe('running');
    const want = { cores: before.cores + 1, memory: before.memory + 512, swap: before.swap + 256 };
    const handle = await startScale({
      vmid: 1401,
      cores: want.cores,
      memoryMiB: want.memory,
      swapMiB: want.swap,
      settleSeconds: 1,
    });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { outcome: 'succeeded', node: before.node } });
    if (outcome.ok) expect(outcome.result.steps).toEqual(['preflight', 'apply', 'settle', 'verify', 'done']);
    expect(await ctView(s.sim, 1401)).toEqual({ ...before, ...want });
    const live = await s.sim.pve.containerStatus(before.node, 1401);
    expect({ maxmem: live.maxmem, cpus: live.cpus }).toEqual({ maxmem: want.memory * MiB, cpus: want.cores });
    await expectReplays(handle, 'scale');
  });

  it('succeeds without applying anything when the change already holds', async () => {
    const before = await view(1401);
    const puts = await configPuts();
    const handle = await startScale({ vmid: 1401, cores: before.cores, memoryMiB: before.memory });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { steps: ['preflight', 'done'] } });
    expect(await configPuts()).toBe(puts);
    expect(await ctView(s.sim, 1401)).toEqual(before);
  });

  it('scales a stopped container and leaves it stopped', async () => {
    const before = await view(1403);
    expect(before.status).toBe('stopped');
    const handle = await startScale({ vmid: 1403, memoryMiB: before.memory * 2, settleSeconds: 0 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome.type).toBe('succeeded');
    expect(await ctView(s.sim, 1403)).toEqual({ ...before, memory: before.memory * 2 });
  });

  it.each([
    [100, /CT 100 is not managed/],
    [1499, /CT 1499 does not exist/],
  ])('refuses CT %i without changing anything', async (vmid, message) => {
    const puts = await configPuts();
    const handle = await startScale({ vmid, cores: 3 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'Refused', message: expect.stringMatching(message) });
    expect(await configPuts()).toBe(puts);
  });

  it('refuses a locked container and leaves its config alone', async () => {
    const before = await view(1400);
    await s.sim.admin('POST', '/_sim/containers/1400/lock', { lock: 'backup' });
    try {
      const handle = await startScale({ vmid: 1400, cores: before.cores + 1 });
      const outcome = await s.run(() => outcomeOf(handle));
      expect(outcome).toMatchObject({ type: 'Refused', message: expect.stringMatching(/locked \(backup\)/) });
    } finally {
      await s.sim.admin('DELETE', '/_sim/containers/1400/lock');
    }
    expect(await ctView(s.sim, 1400)).toEqual(before);
  });

  it('rejects a change that names no limit', async () => {
    const handle = await startScale({ vmid: 1400 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'InvalidInput',
      message: expect.stringMatching(/expected at least one of cores, memoryMiB, swapMiB/),
    });
  });

  it('rides out its node going offline while the change is applied', async () => {
    const before = await view(1402);
    // Holds the PUT for a second: long enough to take the node off the network while it is in flight.
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'PUT',
      path: `/nodes/${before.node}/lxc/1402/config`,
      latencyMs: 1000,
      times: 1,
    });
    const puts = await configPuts();
    const handle = await startScale({ vmid: 1402, cores: before.cores + 1, settleSeconds: 1 });
    // pve-sim counts a request when it arrives, before its latency: the PUT is now on its way.
    const until = Date.now() + 20_000;
    while ((await configPuts()) === puts) {
      if (Date.now() > until) throw new Error('the saga never sent its config PUT');
      await pause(20);
    }
    await s.sim.admin('POST', `/_sim/nodes/${before.node}/offline`);
    await pause(2000);
    await s.sim.admin('POST', `/_sim/nodes/${before.node}/online`);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome.type).toBe('succeeded');
    expect(await ctView(s.sim, 1402)).toEqual({ ...before, cores: before.cores + 1 });
    // The first PUT met the offline node; a retry applied it.
    expect(await configPuts()).toBeGreaterThanOrEqual(puts + 2);
  });

  it("refuses to start while the container's node is offline", async () => {
    const before = await view(1402);
    await s.sim.admin('POST', `/_sim/nodes/${before.node}/offline`);
    try {
      const handle = await startScale({ vmid: 1402, cores: before.cores + 1 });
      const outcome = await s.run(() => outcomeOf(handle));
      expect(outcome).toMatchObject({
        type: 'Refused',
        message: expect.stringMatching(/node srv-px2 of CT 1402 is offline/),
      });
    } finally {
      await s.sim.admin('POST', `/_sim/nodes/${before.node}/online`);
    }
    expect(await ctView(s.sim, 1402)).toEqual(before);
  });

  it('keeps a change someone else made between its read and its write, and applies nothing', async () => {
    const before = await view(1400);
    // Read before the saga starts, so the test's own read does not use up the slowed ones below.
    const { digest } = await s.sim.pve.containerConfig(before.node, 1400);
    // Slows the saga's two config reads (preflight, then the one inside applyConfig), so the test
    // can change the config after the saga took its digest and before it writes.
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'GET',
      path: `/nodes/${before.node}/lxc/1400/config`,
      latencyMs: 1000,
      times: 2,
    });
    const handle = await startScale({ vmid: 1400, cores: before.cores + 1 });
    await waitForStep(handle, 'apply');
    await s.sim.pve.updateConfig(before.node, 1400, { swap: before.swap + 128 }, digest);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'RolledBack',
      message: expect.stringMatching(/detected modified configuration/),
    });
    expect(await ctView(s.sim, 1400)).toEqual({ ...before, swap: before.swap + 128 });
  });

  it('rolls back without overwriting a value someone else set while it settled', async () => {
    const before = await view(1401);
    const handle = await startScale({ vmid: 1401, memoryMiB: before.memory + 256, settleSeconds: 2 });
    await waitForStep(handle, 'settle');
    const { digest } = await s.sim.pve.containerConfig(before.node, 1401);
    await s.sim.pve.updateConfig(before.node, 1401, { memory: before.memory + 512 }, digest);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'RolledBack',
      message: expect.stringMatching(/config has memory/),
    });
    expect(await ctView(s.sim, 1401)).toEqual({ ...before, memory: before.memory + 512 });
  });

  it('rolls back to the old memory and starts the container again after an OOM kill', async () => {
    // pve-sim caps a container's memory at its limit (the rest goes to swap), so the kill that
    // follows a reduction is the node's: its largest memory user dies once the node is past its
    // total. A container sized like the whole node is that user.
    const node = 'srv-px1';
    const totalMiB = Math.floor((await s.sim.pve.nodeStatus(node)).memory.total / MiB);
    const vmid = 1490;
    await finish(
      node,
      await s.sim.pve.createContainer(node, {
        vmid,
        ostemplate: template,
        hostname: 'big-1490',
        memory: totalMiB,
        swap: 0,
        cores: 1,
        rootfs: 'local-lvm:4',
      }),
    );
    await finish(node, await s.sim.pve.startContainer(node, vmid));
    const before = await view(vmid);
    const reduced = totalMiB - 1024;

    const handle = await startScale({ vmid, memoryMiB: reduced, settleSeconds: 4 });
    await waitForStep(handle, 'settle');
    const killed = await s.sim.admin<{ status: string }>('PUT', `/_sim/containers/${vmid}/usage`, {
      memMiB: reduced,
    });
    expect(killed.status).toBe('stopped');
    // What it uses once started again: the kill is over, the old limit is back.
    await s.sim.admin('PUT', `/_sim/containers/${vmid}/usage`, { memMiB: 64 });

    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'RolledBack',
      message: expect.stringMatching(/stopped after the change/),
    });
    expect(await ctView(s.sim, vmid)).toEqual(before);
    const oom = await s.sim.pve.tasks(node, { vmid, typefilter: 'vzstop', source: 'all' });
    expect(oom.filter((t) => t.user === 'root@pam')).toHaveLength(1);
    const starts = await s.sim.pve.tasks(node, { vmid, typefilter: 'vzstart', source: 'all' });
    expect(starts).toHaveLength(2);
    await expectReplays(handle, 'scale-oom-rolled-back');

    await finish(node, await s.sim.pve.stopContainer(node, vmid));
    await finish(node, await s.sim.pve.destroyContainer(node, vmid, { purge: true }));
  });

  // The two slow cases wait out the activities' retries (about 23 s), so they run side by side, on
  // different nodes.
  it.concurrent('keeps the original config when every config PUT fails with HTTP 500', async () => {
    const before = await view(1400);
    const puts = await configPuts();
    const fault = await s.sim.admin<{ id: string }>('POST', '/_sim/faults', {
      method: 'PUT',
      path: `/nodes/${before.node}/lxc/1400/config`,
      status: 500,
      rate: 1,
    });
    try {
      const handle = await startScale({
        vmid: 1400,
        cores: before.cores + 1,
        memoryMiB: before.memory + 256,
      });
      const outcome = await s.run(() => outcomeOf(handle));
      expect(outcome).toMatchObject({
        type: 'RolledBack',
        message: expect.stringMatching(/Internal Server Error/),
      });
    } finally {
      await s.sim.admin('DELETE', `/_sim/faults/${fault.id}`);
    }
    expect(await ctView(s.sim, 1400)).toEqual(before);
    // Retried, then given up: the forward path's six attempts, and no PUT to undo.
    expect(await configPuts()).toBeGreaterThanOrEqual(puts + 2);
  });

  it.concurrent('rolls back once its node returns after being offline past the verify', async () => {
    const before = await view(1402);
    const handle = await startScale({ vmid: 1402, memoryMiB: before.memory + 512, settleSeconds: 1 });
    await waitForStep(handle, 'settle');
    await s.sim.admin('POST', `/_sim/nodes/${before.node}/offline`);
    // The verify's reads give up after about 23 s; the compensation waits for the node.
    await waitForStep(handle, 'compensate');
    await s.sim.admin('POST', `/_sim/nodes/${before.node}/online`);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'RolledBack', message: expect.stringMatching(/No route to host/) });
    expect(await ctView(s.sim, 1402)).toEqual(before);
  });
});
