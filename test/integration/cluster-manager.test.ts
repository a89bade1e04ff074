// clusterManagerWorkflow on pve-sim with a manual clock (advanced in the background while workflows
// run) and 1 s cycles: it migrates and drops on the lab's thresholds, acts on nothing when paused,
// waits for approval in recommend mode, reads the API once per idle cycle, and survives
// continue-as-new. Each test lays out the managed containers itself and uses a cluster name of its
// own, so saga ids never collide between tests.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Upid } from '../../src/proxmox';
import { containerOperationId, type AutomationLevel, type MigrateInput } from '../../src/domain';
import type { Decision } from '../../src/policy';
import type { clusterManagerWorkflow } from '../../workflows/cluster-manager';
import type { migrateContainerWorkflow } from '../../workflows/sagas/migrate';
import {
  approveUpdate,
  clusterManagerWorkflowId,
  lastSnapshotQuery,
  managerStatusQuery,
  pauseManagerUpdate,
  resumeManagerUpdate,
  setAutomationUpdate,
  setThresholdsUpdate,
  stopManagerUpdate,
  type ManagerInput,
  type ManagerState,
} from '../../workflows/messages';
import { labScope, labSettings, outcomeOf, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { expectReplays } from '../support/temporal';
import { runTask, sleep, startBackgroundClock, waitFor, type BackgroundClock } from '../support/manual-clock';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const PX1 = 'srv-px1';
const PX2 = 'srv-px2';

const labRules = {
  lab: { migratePercent: 8, dropPercent: 12, migrateChoice: 'best-fit', dropMode: 'destroy' },
};

let s: SagaEnv;
let clock: BackgroundClock;
beforeAll(async () => {
  s = await startSagaEnv({ clock: { mode: 'manual' } });
  clock = startBackgroundClock(s.sim);
});
// A test that fails midway must not leave its manager acting on the next test's containers.
const started: WorkflowHandle[] = [];
afterEach(async () => {
  clock.release();
  await Promise.all(started.splice(0).map((h) => h.terminate('test over').catch(() => undefined)));
});
afterAll(async () => {
  await clock?.stop();
  await s?.teardown();
});

// ---- helpers -------------------------------------------------------------------------------

function task(node: string, upid: Promise<Upid>): Promise<void> {
  return runTask(s.sim.pve, node, upid);
}

interface Ct {
  vmid: number;
  node: string;
  memoryMiB: number;
  stopped?: boolean;
}

async function managedGuests() {
  const guests = await s.sim.pve.clusterResources('vm');
  return guests.flatMap((g) =>
    g.type === 'lxc' && g.vmid !== undefined && g.vmid >= labScope.vmidMin && g.vmid <= labScope.vmidMax
      ? [{ vmid: g.vmid, node: g.node ?? '', status: g.status }]
      : [],
  );
}

/** Removes every managed container, so tests do not depend on the scenario's starting sizes. */
async function clearManaged(): Promise<void> {
  await Promise.all(
    (await managedGuests()).map(async (g) => {
      if (g.status === 'running') await task(g.node, s.sim.pve.stopContainer(g.node, g.vmid));
      await task(g.node, s.sim.pve.destroyContainer(g.node, g.vmid, { purge: true }));
    }),
  );
}

/** Created and started in order, so the first in the list is the oldest (longest uptime). */
async function addContainers(cts: readonly Ct[]): Promise<void> {
  for (const ct of cts) {
    await task(
      ct.node,
      s.sim.pve.createContainer(ct.node, {
        vmid: ct.vmid,
        ostemplate: TEMPLATE,
        hostname: `t-${ct.vmid}`,
        memory: ct.memoryMiB,
        swap: 0,
        cores: 1,
        rootfs: 'local-lvm:1',
      }),
    );
    if (!ct.stopped) await task(ct.node, s.sim.pve.startContainer(ct.node, ct.vmid));
  }
}

/** The containers then a minute of sim time: the manager leaves containers alone for a cooldown after they start. */
async function layout(cts: readonly Ct[]): Promise<void> {
  await clearManaged();
  await addContainers(cts);
  await s.sim.admin('POST', '/_sim/clock/advance', { seconds: 61 });
}

async function nodeOf(vmid: number): Promise<string | undefined> {
  return (await managedGuests()).find((g) => g.vmid === vmid)?.node;
}

let clusters = 0;
async function startManager(overrides: Partial<ManagerInput> = {}) {
  const cluster = overrides.cluster ?? `t${++clusters}-${Date.now() % 100_000}`;
  const handle = await s.env.client.workflow.start<typeof clusterManagerWorkflow>('clusterManagerWorkflow', {
    taskQueue: s.taskQueue,
    workflowId: clusterManagerWorkflowId(cluster),
    args: [
      {
        cluster,
        settings: labSettings,
        rules: labRules,
        automation: 'auto',
        cycleSeconds: 1,
        seed: 7,
        ...overrides,
      },
    ],
  });
  started.push(handle);
  return handle;
}

function status(handle: WorkflowHandle): Promise<ManagerState> {
  return handle.query(managerStatusQuery);
}

async function untilStatus(
  handle: WorkflowHandle,
  what: string,
  ok: (state: ManagerState) => boolean,
  timeoutMs?: number,
): Promise<ManagerState> {
  return waitFor(
    what,
    async () => {
      const state = await status(handle);
      return ok(state) ? state : undefined;
    },
    timeoutMs,
  );
}

async function stop(handle: WorkflowHandle<typeof clusterManagerWorkflow>): Promise<ManagerState> {
  await handle.executeUpdate(stopManagerUpdate);
  const final = await s.run(() => handle.result());
  expect(final.runState).toBe('stopped');
  return final;
}

const migrations = (state: ManagerState): Decision[] =>
  state.core.decisions.filter((d) => d.action.kind === 'migrate');

async function resourceRequests(): Promise<Record<string, number>> {
  return s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
}

// ---- tests ---------------------------------------------------------------------------------

describe('clusterManagerWorkflow', () => {
  it('migrates a container off a node once its allocation passes the migrate threshold, and only once', async () => {
    // srv-px1 at 6.25 %, srv-px2 at 1.6 %: nothing to do at the lab's 8 / 12 %.
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const handle = await startManager();
    await untilStatus(handle, 'two idle cycles', (st) => st.cycle >= 2);
    expect((await status(handle)).core.decisions).toEqual([]);

    // 1 GiB more on srv-px1 takes it to 9.4 %; moving CT 1411 evens the nodes best (6.3 % / 4.7 %).
    // Stopped, so the manager cannot race the test's own start of it.
    await addContainers([{ vmid: 1411, node: PX1, memoryMiB: 1024, stopped: true }]);
    const done = await untilStatus(handle, 'a finished migration', (st) =>
      migrations(st).some((d) => d.status === 'succeeded' || d.status === 'failed'),
    );
    expect(migrations(done)).toMatchObject([
      {
        status: 'succeeded',
        workflowId: containerOperationId(handle.workflowId.replace('cluster-manager-', ''), 1411),
        action: { kind: 'migrate', vmid: 1411, from: PX1, to: PX2 },
      },
    ]);
    expect(await nodeOf(1411)).toBe(PX2);

    // Balanced now: later cycles decide nothing more.
    const cycle = done.cycle;
    const later = await untilStatus(handle, 'three more cycles', (st) => st.cycle >= cycle + 3);
    expect(migrations(later)).toHaveLength(1);
    expect(later.lastObservation?.nodes.map((n) => n.managedPercent)).toEqual([6.3, 4.7]);
    expect(later.core.decisions.filter((d) => d.status === 'running')).toEqual([]);
    expect(later.core.cooldownUntil).toHaveProperty('1411');
    const snapshot = await handle.query(lastSnapshotQuery);
    expect(snapshot?.containers.find((ct) => ct.vmid === 1411)?.node).toBe(PX2);
    await stop(handle);
  });

  it('destroys the oldest container on each node when both nodes pass the drop threshold', async () => {
    // Both nodes at 12.5 %, over the 12 % drop threshold; created oldest first: 1420, 1422, 1421, 1423.
    await layout([
      { vmid: 1420, node: PX1, memoryMiB: 2048 },
      { vmid: 1422, node: PX2, memoryMiB: 2048 },
      { vmid: 1421, node: PX1, memoryMiB: 2048 },
      { vmid: 1423, node: PX2, memoryMiB: 2048 },
    ]);
    const handle = await startManager();
    const done = await untilStatus(
      handle,
      'two finished drops',
      (st) => st.core.decisions.filter((d) => d.status === 'succeeded' || d.status === 'failed').length >= 2,
    );
    expect(done.core.decisions).toMatchObject([
      { id: 'c1-1', status: 'succeeded', action: { kind: 'drop', vmid: 1420, node: PX1, mode: 'destroy' } },
      { id: 'c1-2', status: 'succeeded', action: { kind: 'drop', vmid: 1422, node: PX2, mode: 'destroy' } },
    ]);
    expect((await managedGuests()).map((g) => g.vmid).sort()).toEqual([1421, 1423]);

    // 6.25 % each now: under both thresholds, nothing more to do.
    const later = await untilStatus(handle, 'three more cycles', (st) => st.cycle >= done.cycle + 3);
    expect(later.core.decisions).toHaveLength(2);
    expect(later.notes).toEqual([]);
    await stop(handle);
  });

  it('acts on nothing and reads nothing while paused, then migrates once resumed', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const handle = await startManager();
    await untilStatus(handle, 'a first cycle', (st) => st.cycle >= 1);
    const paused = await handle.executeUpdate(pauseManagerUpdate);
    expect(paused.runState).toBe('paused');

    await addContainers([{ vmid: 1411, node: PX1, memoryMiB: 1024, stopped: true }]);
    await s.sim.admin('DELETE', '/_sim/counters');
    await sleep(3_500);
    const still = await status(handle);
    expect(still.cycle).toBe(paused.cycle);
    expect(still.core.decisions).toEqual([]);
    expect(await resourceRequests()).toEqual({});
    expect(await nodeOf(1411)).toBe(PX1);

    await handle.executeUpdate(resumeManagerUpdate);
    await untilStatus(handle, 'the migration after resume', (st) =>
      migrations(st).some((d) => d.status === 'succeeded'),
    );
    expect(await nodeOf(1411)).toBe(PX2);
    await stop(handle);
  });

  it('in recommend mode records the migration and runs it only after approval', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1411, node: PX1, memoryMiB: 1024 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const handle = await startManager({ automation: 'recommend' });
    const first = await untilStatus(handle, 'a recommendation', (st) => st.core.decisions.length > 0);
    const recommended = first.core.decisions[0] as Decision;
    expect(recommended).toMatchObject({ status: 'recommended', action: { kind: 'migrate', vmid: 1411 } });

    // Later cycles keep the same recommendation (same id) and touch nothing.
    const cycle = first.cycle;
    const later = await untilStatus(handle, 'three more cycles', (st) => st.cycle >= cycle + 3);
    expect(later.core.decisions).toEqual([recommended]);
    expect(await nodeOf(1411)).toBe(PX1);

    await expect(handle.executeUpdate(approveUpdate, { args: [['c999-1']] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    const rejected = await handle.executeUpdate(approveUpdate, { args: [['c999-1']] }).catch((e) => e);
    expect(String((rejected as WorkflowUpdateFailedError).cause?.message)).toMatch(
      new RegExp(`no recommended decision 'c999-1' \\(recommended now: ${recommended.id}\\)`),
    );

    await expect(
      handle.executeUpdate(setAutomationUpdate, { args: ['sometimes' as AutomationLevel] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);

    expect(await handle.executeUpdate(approveUpdate, { args: [['all']] })).toEqual([recommended.id]);
    const done = await untilStatus(handle, 'the approved migration', (st) =>
      st.core.decisions.some((d) => d.id === recommended.id && d.status === 'succeeded'),
    );
    expect(done.core.decisions.filter((d) => d.status !== 'expired')).toHaveLength(1);
    expect(await nodeOf(1411)).toBe(PX2);
    await stop(handle);
  });

  it('skips and notes an action on a container that already has an operation in flight', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1411, node: PX1, memoryMiB: 1024 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const cluster = `busy-${Date.now() % 100_000}`;
    // A migration of CT 1411 started by hand, held at its shutdown while the sim clock stands still.
    clock.hold();
    const manual = await s.env.client.workflow.start<typeof migrateContainerWorkflow>(
      'migrateContainerWorkflow',
      {
        taskQueue: s.taskQueue,
        workflowId: containerOperationId(cluster, 1411),
        args: [{ vmid: 1411, target: PX2, scope: labScope } satisfies MigrateInput],
      },
    );
    started.push(manual);
    const handle = await startManager({ cluster });
    const skipped = await untilStatus(handle, 'a skipped migration', (st) =>
      st.core.decisions.some((d) => d.status === 'rejected'),
    );
    expect(skipped.core.decisions.find((d) => d.status === 'rejected')).toMatchObject({
      action: { kind: 'migrate', vmid: 1411 },
      detail: `skipped: another operation on CT 1411 is in flight (${containerOperationId(cluster, 1411)})`,
    });
    expect(skipped.core.decisions.filter((d) => d.status === 'running')).toEqual([]);
    await handle.executeUpdate(pauseManagerUpdate);
    clock.release();
    expect((await s.run(() => outcomeOf(manual))).type).toBe('succeeded');
    const final = await stop(handle);
    expect(final.core.decisions.every((d) => d.status === 'rejected')).toBe(true);
  });

  it('makes exactly one Proxmox API request per idle cycle, whatever the number of containers', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const handle = await startManager();
    // Generous thresholds, so the containers added below leave nothing to do.
    await expect(
      handle.executeUpdate(setThresholdsUpdate, { args: [{ migratePercent: 70 }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const tuned = await handle.executeUpdate(setThresholdsUpdate, {
      args: [{ migratePercent: 50, dropPercent: 60 }],
    });
    expect(tuned.rules.lab).toMatchObject({ migratePercent: 50, dropPercent: 60 });

    const requestsPerCycle = async (): Promise<{ cycles: number; requests: Record<string, number> }> => {
      const before = await handle.executeUpdate(pauseManagerUpdate);
      await s.sim.admin('DELETE', '/_sim/counters');
      await handle.executeUpdate(resumeManagerUpdate);
      await untilStatus(handle, 'four more cycles', (st) => st.cycle >= before.cycle + 4);
      const after = await handle.executeUpdate(pauseManagerUpdate);
      const requests = await resourceRequests();
      await handle.executeUpdate(resumeManagerUpdate);
      return { cycles: after.cycle - before.cycle, requests };
    };

    const few = await requestsPerCycle();
    expect(few.cycles).toBeGreaterThanOrEqual(4);
    expect(few.requests).toEqual({ 'GET /cluster/resources': few.cycles });

    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        addContainers([{ vmid: 1420 + i, node: i % 2 === 0 ? PX1 : PX2, memoryMiB: 256, stopped: true }]),
      ),
    );
    const many = await requestsPerCycle();
    expect(many.requests).toEqual({ 'GET /cluster/resources': many.cycles });
    expect((await status(handle)).lastObservation?.managedContainers).toBe(26);
    const final = await stop(handle);
    expect(final.core.decisions).toEqual([]);
  });

  it('keeps its cycle count, decisions and memory across continue-as-new', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1411, node: PX1, memoryMiB: 1024 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const handle = await startManager({ iterationsPerRun: 3 });
    const firstRun = handle.firstExecutionRunId;
    const after = await untilStatus(handle, 'two hand-overs', (st) => st.cycle >= 8);
    const { runId } = await handle.describe();
    expect(runId).not.toBe(firstRun);
    expect(migrations(after)).toMatchObject([
      { id: 'c1-1', status: 'succeeded', action: { vmid: 1411, to: PX2 } },
    ]);
    expect(after.core.cooldownUntil).toHaveProperty('1411');
    expect(await nodeOf(1411)).toBe(PX2);
    const final = await stop(handle);
    expect(final.cycle).toBeGreaterThanOrEqual(8);
    // The first run, which started and followed the saga, replays against today's code.
    await expectReplays(
      s.env.client.workflow.getHandle(handle.workflowId, firstRun),
      'cluster-manager-first-run',
    );
  });

  it.each([
    ['null', null, /invalid input: input: /],
    ['no settings', { cluster: 'x', automation: 'auto', rules: {}, cycleSeconds: 1, seed: 1 }, /settings: /],
    [
      'a bad rule section',
      {
        cluster: 'x',
        settings: labSettings,
        automation: 'auto',
        rules: { lab: { dropPercent: 1, migratePercent: 5 } },
        cycleSeconds: 1,
        seed: 1,
      },
      /rules\.lab\.dropPercent: expected a number between lab\.migratePercent \(5\) and 100/,
    ],
    [
      'an unknown rule',
      {
        cluster: 'x',
        settings: labSettings,
        automation: 'auto',
        rules: { lab: {}, balanse: {} },
        cycleSeconds: 1,
        seed: 1,
      },
      /rules: unknown rule balanse/,
    ],
  ])('fails at once, naming the field, on %s as input', async (_what, input, message) => {
    const handle = await s.env.client.workflow.start('clusterManagerWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: `bad-manager-input-${Date.now()}-${Math.random()}`,
      args: [input],
    });
    started.push(handle);
    const failure = await s.run(() =>
      handle.result().then(
        () => null,
        (err: unknown) => err as Error,
      ),
    );
    expect(String((failure as { cause?: Error } | null)?.cause?.message)).toMatch(message);
    const { status } = await handle.describe();
    expect(status.name).toBe('FAILED');
  });

  it('takes over the state a lab-only manager carried into continue-as-new', async () => {
    await layout([
      { vmid: 1410, node: PX1, memoryMiB: 2048 },
      { vmid: 1412, node: PX2, memoryMiB: 512 },
    ]);
    const cluster = `legacy-${Date.now() % 100_000}`;
    const policy = {
      ...labSettings,
      migratePercent: 50,
      dropPercent: 60,
      migrateChoice: 'best-fit',
      dropMode: 'destroy',
    };
    // What the lab-only manager passed to continue-as-new: a flat policy and its carried state.
    const legacyInput = {
      cluster,
      policy: {
        scope: policy.scope,
        capacityBasis: 'allocated',
        migratePercent: 50,
        dropPercent: 60,
        migrateChoice: 'best-fit',
        dropMode: 'destroy',
        maxConcurrent: 2,
        cooldownMs: 60_000,
        admissionShare: 0.9,
      },
      automation: 'auto',
      cycleSeconds: 1,
      seed: 7,
      carried: {
        runState: 'running',
        automation: 'auto',
        policy: {
          scope: policy.scope,
          capacityBasis: 'allocated',
          migratePercent: 50,
          dropPercent: 60,
          migrateChoice: 'best-fit',
          dropMode: 'destroy',
          maxConcurrent: 2,
          cooldownMs: 60_000,
          admissionShare: 0.9,
        },
        cycle: 41,
        decisions: [
          {
            id: 'c40-1',
            cycle: 40,
            at: 1,
            status: 'succeeded',
            action: { kind: 'migrate', vmid: 1411, from: PX1, to: PX2, reason: 'lab' },
          },
        ],
        memory: { inFlight: [], cooldownUntil: { '1411': 4_000_000_000_000 }, seed: 99 },
      },
    };
    const handle = await s.env.client.workflow.start('clusterManagerWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: clusterManagerWorkflowId(cluster),
      args: [legacyInput],
    });
    started.push(handle);
    const state = await untilStatus(handle, 'two cycles on the new core', (st) => st.cycle >= 43);
    expect(state.rules.lab).toMatchObject({ migratePercent: 50, dropPercent: 60, enabled: true });
    expect(state.settings).toMatchObject({ maxConcurrent: 2, cooldownMs: 60_000, admissionShare: 0.9 });
    expect(state.core.decisions).toMatchObject([{ id: 'c40-1', status: 'succeeded' }]);
    expect(state.core.cooldownUntil).toEqual({ '1411': 4_000_000_000_000 });
    await stop(handle as WorkflowHandle<typeof clusterManagerWorkflow>);
  });
});
