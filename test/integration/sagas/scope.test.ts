// The managed scope comes from the worker's configuration, never from a workflow input: a saga
// started straight through Temporal with a wider scope in its input is refused and changes nothing,
// and the activities check the pool and tag of the container itself before any write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createProxmoxActivities } from '../../../activities/proxmox';
import { ctView, labScope, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { runTask } from '../../support/manual-clock';
import { InvalidOperationInputError, startOperation } from '../../../src/temporal/starts';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

/** Requests that change something (POST, PUT, DELETE) the sim has answered so far. */
async function writes(): Promise<number> {
  const counters = await s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
  return Object.entries(counters)
    .filter(([key]) => /^(POST|PUT|DELETE) \/api2/.test(key))
    .reduce((sum, [, n]) => sum + n, 0);
}

const wider = { vmidMin: 100, vmidMax: 200 };

describe('the managed scope', () => {
  it.each([
    ['migrateContainerWorkflow', { vmid: 100, target: 'srv-px2', scope: wider }],
    ['scaleContainerWorkflow', { vmid: 100, memoryMiB: 1024, scope: wider }],
    ['dropContainerWorkflow', { vmid: 100, mode: 'destroy', scope: wider }],
    ['snapshotContainerWorkflow', { vmid: 100, name: 'sneaky', scope: wider }],
  ])('%s on CT 100 with a wider scope in its input is refused, CT 100 untouched', async (type, input) => {
    const before = await ctView(s.sim, 100);
    expect(before).toMatchObject({ node: 'srv-px1', status: 'running' });
    const written = await writes();
    const handle = await s.env.client.workflow.start(type, {
      taskQueue: s.taskQueue,
      workflowId: `scope-${type}-${Date.now()}`,
      args: [input],
    });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: false, type: 'Refused' });
    if (!outcome.ok) expect(outcome.message).toContain('CT 100 is not managed by pve-autopilot');
    expect(await ctView(s.sim, 100)).toEqual(before);
    expect(await writes()).toBe(written);
  });

  it('the typed start used by the CLI and scripts rejects a scope in the input, starting nothing', async () => {
    const start = startOperation(
      s.env.client,
      'migrate',
      { vmid: 1401, target: 'srv-px2', scope: wider },
      { cluster: `scope-${s.taskQueue}`, taskQueue: s.taskQueue },
    );
    await expect(start).rejects.toBeInstanceOf(InvalidOperationInputError);
    await expect(start).rejects.toThrow(/scope: not accepted; the worker enforces the managed scope/);
  });

  it("every write activity checks the container's own pool and tag against the worker's scope", async () => {
    // In the managed range but not in the pool: created by hand, as someone else would.
    await runTask(
      s.sim.pve,
      'srv-px2',
      s.sim.pve.createContainer('srv-px2', {
        vmid: 1490,
        ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        hostname: 'not-ours',
        memory: 256,
        rootfs: 'local-lvm:1',
      }),
    );
    const pooled = createProxmoxActivities({
      pve: s.sim.pve,
      scope: { ...labScope, pool: 'autopilot', tag: 'autopilot' },
      vmidQuarantineMinutes: 10,
    });
    const written = await writes();
    const refusal = await pooled.requestStart({ node: 'srv-px2', vmid: 1490 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect(refusal).toMatchObject({ type: 'NotManaged', nonRetryable: true });
    expect(String((refusal as Error).message)).toContain('CT 1490 is outside the managed scope');
    expect(await writes()).toBe(written);
    expect(await ctView(s.sim, 1490)).toMatchObject({ status: 'stopped' });
    // A container in the pool with the tag is the worker's to change.
    expect((await pooled.requestShutdown({ node: 'srv-px1', vmid: 1400, timeoutSeconds: 5 })).note).toBe(
      'started',
    );
  });

  it("a create puts the worker's pool and tag on the new container", async () => {
    const pooled = createProxmoxActivities({
      pve: s.sim.pve,
      scope: { ...labScope, pool: 'autopilot', tag: 'autopilot' },
      vmidQuarantineMinutes: 10,
    });
    const request = await pooled.requestCreate({
      node: 'srv-px2',
      owner: 'scope-test',
      spec: {
        vmid: 1491,
        ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        hostname: 'ours',
        memory: 256,
        rootfs: 'local-lvm:1',
      },
    });
    await runTask(s.sim.pve, 'srv-px2', Promise.resolve(request.upid as never));
    const guest = (await s.sim.pve.clusterResources('vm')).find((g) => g.vmid === 1491);
    expect(guest).toMatchObject({ pool: 'autopilot' });
    expect(guest?.tags).toContain('autopilot');
  });
});
