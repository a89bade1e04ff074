// The provision saga on pve-sim: a new container in the managed range, two provisions racing for
// the same vmid, and failures of the create and the start that must leave no container behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { provisionContainerWorkflow } from '../../../workflows/sagas/provision';
import type { ProvisionInput } from '../../../src/domain';
import { ctView, labScope, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { expectReplays } from '../../support/temporal';

const template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

function startProvision(input: Partial<Omit<ProvisionInput, 'scope'>> = {}) {
  // The lab's `local` storage holds templates only; containers go on local-lvm.
  return s.startSaga<typeof provisionContainerWorkflow>('provisionContainerWorkflow', {
    node: 'srv-px2',
    memoryMiB: 512,
    template,
    storage: 'local-lvm',
    ...input,
  });
}

async function managedVmids(): Promise<number[]> {
  return (await s.sim.pve.clusterResources('vm'))
    .map((g) => g.vmid ?? 0)
    .filter((id) => id >= labScope.vmidMin && id <= labScope.vmidMax)
    .sort((a, b) => a - b);
}

describe('provisionContainerWorkflow', () => {
  it('creates a container in the managed range, starts it and reports its vmid', async () => {
    const existing = await managedVmids();
    const handle = await startProvision({ cores: 2, swapMiB: 256, diskGiB: 4 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { outcome: 'succeeded', node: 'srv-px2' } });
    if (!outcome.ok) return;
    const { vmid, steps } = outcome.result;
    expect(steps).toEqual(['preflight', 'allocate', 'create', 'start', 'verify', 'done']);
    expect(vmid).toBeGreaterThanOrEqual(labScope.vmidMin);
    expect(vmid).toBeLessThanOrEqual(labScope.vmidMax);
    expect(existing).not.toContain(vmid);
    expect(await ctView(s.sim, vmid)).toEqual({
      node: 'srv-px2',
      status: 'running',
      cores: 2,
      memory: 512,
      swap: 256,
    });
    const config = await s.sim.pve.containerConfig('srv-px2', vmid);
    expect(config.hostname).toBe(`autopilot-${vmid}`);
    expect(config.rootfs).toMatch(/^local-lvm:.*size=4G/);
    expect(config.description).toContain(`created-by: ${handle.workflowId}`);
    await expectReplays(handle, 'provision');
  });

  it('gives two concurrent provisions different vmids and runs both', async () => {
    // Holds both creates for a moment, so both runs allocate the same free id before either lands.
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'POST',
      path: '/nodes/{node}/lxc',
      latencyMs: 500,
      times: 2,
    });
    const [a, b] = await Promise.all([
      startProvision({ node: 'srv-px1', hostnamePrefix: 'race-a' }),
      startProvision({ node: 'srv-px2', hostnamePrefix: 'race-b' }),
    ]);
    const [ra, rb] = await s.run(() => Promise.all([outcomeOf(a), outcomeOf(b)]));
    if (!ra.ok || !rb.ok) throw new Error(`a provision failed: ${JSON.stringify([ra, rb])}`);
    expect(ra.result.vmid).not.toBe(rb.result.vmid);
    // The loser of the race skipped the taken id and allocated again.
    const allocations = [ra, rb].map((r) => r.result.steps.filter((st) => st === 'allocate').length);
    expect(allocations.sort()).toEqual([1, 2]);
    for (const [r, node, prefix] of [
      [ra, 'srv-px1', 'race-a'],
      [rb, 'srv-px2', 'race-b'],
    ] as const) {
      expect(await ctView(s.sim, r.result.vmid)).toMatchObject({ node, status: 'running', memory: 512 });
      expect((await s.sim.pve.containerConfig(node, r.result.vmid)).hostname).toBe(
        `${prefix}-${r.result.vmid}`,
      );
    }
  });

  it('creates a stopped container when asked not to start it', async () => {
    const handle = await startProvision({ start: false });
    const outcome = await s.run(() => outcomeOf(handle));
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.result.steps).toEqual(['preflight', 'allocate', 'create', 'verify', 'done']);
    expect(await ctView(s.sim, outcome.result.vmid)).toMatchObject({ status: 'stopped' });
  });

  it('destroys the container it created when the start fails, without retrying the start', async () => {
    const before = await managedVmids();
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzstart', times: 1 });
    const handle = await startProvision();
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'RolledBack',
      message: expect.stringMatching(/startup for container '\d+' failed.*CT \d+ stopped and destroyed/),
    });
    const vmid = Number(/CT (\d+) stopped and destroyed/.exec(outcome.ok ? '' : outcome.message)?.[1]);
    expect(await ctView(s.sim, vmid)).toBeNull();
    expect(await managedVmids()).toEqual(before);
    const starts = await s.sim.pve.tasks('srv-px2', { vmid, typefilter: 'vzstart', source: 'all' });
    expect(starts.map((t) => t.status)).toEqual([expect.not.stringMatching(/^OK$/)]);
    const destroys = await s.sim.pve.tasks('srv-px2', { vmid, typefilter: 'vzdestroy', source: 'all' });
    expect(destroys.map((t) => t.status)).toEqual(['OK']);
  });

  it('leaves nothing behind when the create task fails', async () => {
    const before = await managedVmids();
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzcreate', times: 1 });
    const handle = await startProvision();
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'RolledBack', message: expect.stringMatching(/was not created/) });
    expect(await managedVmids()).toEqual(before);
  });

  it.each([
    ['srv-px9', /no such node 'srv-px9'/],
    ['srv-px1', /node srv-px1 is offline/],
  ])('refuses node %s and creates nothing', async (node, message) => {
    const before = await managedVmids();
    if (node === 'srv-px1') await s.sim.admin('POST', '/_sim/nodes/srv-px1/offline');
    try {
      const handle = await startProvision({ node });
      const outcome = await s.run(() => outcomeOf(handle));
      expect(outcome).toMatchObject({ type: 'Refused', message: expect.stringMatching(message) });
    } finally {
      await s.sim.admin('POST', '/_sim/nodes/srv-px1/online');
    }
    expect(await managedVmids()).toEqual(before);
  });
});
