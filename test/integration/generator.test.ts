// generatorWorkflow on pve-sim with a manual clock (advanced in the background while workflows run)
// and 1 s arrivals: it fills the lab's nodes to the 16 % limit through the provision saga and then
// only backs off; pause, setArrival's validation and continue-as-new keep their promises.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { Upid } from '../../src/proxmox';
import { containerOperationId, type ContainerTemplate } from '../../src/domain';
import type { ArrivalLaw, GeneratorPolicy } from '../../src/policy';
import type { generatorWorkflow } from '../../workflows/generator';
import {
  generatorStatusQuery,
  generatorWorkflowId,
  pauseGeneratorUpdate,
  resumeGeneratorUpdate,
  setArrivalUpdate,
  stopGeneratorUpdate,
  type GeneratorInput,
  type GeneratorState,
} from '../../workflows/messages';
import { labScope, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { expectReplays } from '../support/temporal';
import { runTask, sleep, startBackgroundClock, waitFor, type BackgroundClock } from '../support/manual-clock';

const PX1 = 'srv-px1';
const PX2 = 'srv-px2';
const MiB = 1024 * 1024;
const LARGEST_MiB = 1536;

// Large sizes, so the nodes fill in a few arrivals whatever the scenario starts with.
const policy: GeneratorPolicy = {
  scope: labScope,
  capacityBasis: 'allocated',
  limitPercent: 16,
  nodeWeights: { [PX1]: 66, [PX2]: 33 },
  memoryChoicesMiB: [1024, LARGEST_MiB],
};

const container: ContainerTemplate = {
  template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  storage: 'local-lvm',
  diskGiB: 1,
  cores: 1,
  swapMiB: 0,
  net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
  hostnamePrefix: 'gen',
  unprivileged: true,
};

let s: SagaEnv;
let clock: BackgroundClock;
beforeAll(async () => {
  s = await startSagaEnv({ clock: { mode: 'manual' } });
  clock = startBackgroundClock(s.sim);
  await clearManaged();
});
const started: WorkflowHandle[] = [];
afterEach(async () => {
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

async function managedGuests() {
  const guests = await s.sim.pve.clusterResources('vm');
  return guests.flatMap((g) =>
    g.type === 'lxc' && g.vmid !== undefined && g.vmid >= labScope.vmidMin && g.vmid <= labScope.vmidMax
      ? [{ vmid: g.vmid, node: g.node ?? '', status: g.status, maxmem: g.maxmem ?? 0 }]
      : [],
  );
}

/** Starts from empty nodes, so the test does not depend on the scenario's starting sizes. */
async function clearManaged(): Promise<void> {
  await Promise.all(
    (await managedGuests()).map(async (g) => {
      if (g.status === 'running') await task(g.node, s.sim.pve.stopContainer(g.node, g.vmid));
      await task(g.node, s.sim.pve.destroyContainer(g.node, g.vmid, { purge: true }));
    }),
  );
}

/** MiB of managed containers' configured memory per node (the allocated basis). */
async function allocatedMiB(): Promise<Record<string, number>> {
  const out: Record<string, number> = { [PX1]: 0, [PX2]: 0 };
  for (const g of await managedGuests()) out[g.node] = (out[g.node] ?? 0) + g.maxmem / MiB;
  return out;
}

async function nodeMemMiB(node: string): Promise<number> {
  return (await s.sim.pve.nodeStatus(node)).memory.total / MiB;
}

let clusters = 0;
async function startGenerator(overrides: Partial<GeneratorInput> = {}) {
  const cluster = `g${++clusters}-${Date.now() % 100_000}`;
  const handle = await s.env.client.workflow.start<typeof generatorWorkflow>('generatorWorkflow', {
    taskQueue: s.taskQueue,
    workflowId: generatorWorkflowId(cluster),
    args: [
      {
        cluster,
        policy,
        arrival: { law: 'periodic', periodSeconds: 1 },
        container,
        backoffSeconds: 1,
        seed: 42,
        ...overrides,
      },
    ],
  });
  started.push(handle);
  return handle;
}

function status(handle: WorkflowHandle): Promise<GeneratorState> {
  return handle.query(generatorStatusQuery);
}

function untilStatus(
  handle: WorkflowHandle,
  what: string,
  ok: (state: GeneratorState) => boolean,
): Promise<GeneratorState> {
  return waitFor(what, async () => {
    const state = await status(handle);
    return ok(state) ? state : undefined;
  });
}

async function stop(handle: WorkflowHandle<typeof generatorWorkflow>): Promise<GeneratorState> {
  await handle.executeUpdate(stopGeneratorUpdate);
  const final = await s.run(() => handle.result());
  expect(final.runState).toBe('stopped');
  return final;
}

async function rejection(handle: WorkflowHandle, law: unknown): Promise<string> {
  const err: unknown = await handle.executeUpdate(setArrivalUpdate, { args: [law as ArrivalLaw] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((err as WorkflowUpdateFailedError).cause?.message);
}

// ---- tests ---------------------------------------------------------------------------------

describe('generatorWorkflow', () => {
  it('fills every node to the 16 % limit, never past it by more than one container, then only backs off', async () => {
    const handle = await startGenerator();
    const full = await untilStatus(handle, 'two capacity skips', (st) => st.counters.skippedForCapacity >= 2);
    expect(full.counters.failed).toBe(0);
    expect(full.counters.created).toBeGreaterThanOrEqual(4);

    const allocated = await allocatedMiB();
    for (const node of [PX1, PX2]) {
      const limitMiB = ((await nodeMemMiB(node)) * policy.limitPercent) / 100;
      expect(allocated[node]).toBeGreaterThanOrEqual(limitMiB);
      expect(allocated[node]).toBeLessThan(limitMiB + LARGEST_MiB);
    }
    const created = full.recent.filter((c) => c.outcome === 'created');
    expect(created.length).toBe(full.counters.created);
    expect(new Set(created.map((c) => c.vmid)).size).toBe(created.length);
    expect((await managedGuests()).every((g) => g.status === 'running')).toBe(true);

    // Full: more arrivals only skip.
    const later = await untilStatus(
      handle,
      'two more skips',
      (st) => st.counters.skippedForCapacity >= full.counters.skippedForCapacity + 2,
    );
    expect(later.counters.created).toBe(full.counters.created);
    expect(later.runState).toBe('backing-off');
    expect(later.recent.at(-1)).toMatchObject({ outcome: 'skipped-capacity', node: null });

    const final = await stop(handle);
    expect(final.counters.created).toBe(full.counters.created);
    await expectReplays(handle, 'generator-fills-to-limit');
  });

  it('creates nothing while paused, and rejects a bad arrival law with a message naming the field', async () => {
    // The nodes are full from the test before: every arrival is a capacity skip.
    const handle = await startGenerator();
    await untilStatus(handle, 'a first arrival', (st) => st.counters.skippedForCapacity >= 1);
    const paused = await handle.executeUpdate(pauseGeneratorUpdate);
    expect(paused.runState).toBe('paused');
    await sleep(2_500);
    expect((await status(handle)).counters).toEqual(paused.counters);

    expect(await rejection(handle, { law: 'uniform', minSeconds: 5, maxSeconds: 1 })).toMatch(
      /maxSeconds: expected at least minSeconds \(5\), got 1/,
    );
    expect(await rejection(handle, { law: 'exponential', meanSeconds: -1 })).toMatch(/meanSeconds: expected/);
    expect(await rejection(handle, { law: 'poisson' })).toMatch(/law: expected one of periodic, uniform/);
    const law: ArrivalLaw = { law: 'exponential', meanSeconds: 0.5 };
    expect((await handle.executeUpdate(setArrivalUpdate, { args: [law] })).arrival).toEqual(law);

    await handle.executeUpdate(resumeGeneratorUpdate);
    await untilStatus(handle, 'arrivals after resume', (st) => st.counters.skippedForCapacity >= 2);
    await stop(handle);
  });

  it('counts a failed creation with the saga failure and keeps arriving', async () => {
    const handle = await startGenerator({
      policy: { ...policy, limitPercent: 40 },
      container: { ...container, template: 'local:vztmpl/no-such-template.tar.zst' },
    });
    const failing = await untilStatus(handle, 'two failed creations', (st) => st.counters.failed >= 2);
    expect(failing.counters.created).toBe(0);
    expect(failing.runState).toBe('running');
    expect(failing.recent[0]).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^(RolledBack|Refused): provision/),
    });
    await stop(handle);
  });

  it('counts a provision its saga refused as failed, with the Refused text; the saga run completed', async () => {
    const handle = await startGenerator({
      policy: { ...policy, limitPercent: 40 },
      container: { ...container, cores: 64 },
    });
    const failing = await untilStatus(handle, 'a refused creation', (st) => st.counters.failed >= 1);
    expect(failing.counters.created).toBe(0);
    expect(failing.runState).toBe('running');
    const choice = failing.recent[0];
    expect(choice).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(
        /^Refused: provision of CT \d+ refused: 64 cores asked, but node srv-px\d has/,
      ),
    });
    await stop(handle);
    // The refused saga itself completed with its refused result: not a Failed run in the Web UI.
    const vmid = Number(/provision of CT (\d+)/.exec(choice?.detail ?? '')?.[1]);
    const cluster = handle.workflowId.replace(/^generator-/, '');
    const saga = s.env.client.workflow.getHandle(containerOperationId(cluster, vmid));
    expect((await saga.describe()).status.name).toBe('COMPLETED');
    expect(await saga.result()).toMatchObject({ operation: 'provision', outcome: 'refused', vmid });
  });

  it.each([
    ['null', null, /invalid input: input: .*expected object, received null/],
    ['{}', {}, /invalid input: cluster: .*policy: /],
    ['a bad field', 'backoffSeconds', /invalid input: backoffSeconds: expected a number > 0/],
  ])('fails at once, naming the field, when started with %s', async (_name, arg, message) => {
    const input =
      arg === 'backoffSeconds'
        ? {
            cluster: 'bad-input',
            policy,
            arrival: { law: 'periodic', periodSeconds: 1 },
            container,
            backoffSeconds: 0,
            seed: 1,
          }
        : arg;
    const handle = await s.env.client.workflow.start('generatorWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: `generator-bad-input-${++clusters}-${Date.now()}`,
      args: [input],
    });
    started.push(handle);
    // A TypeError would retry the workflow task and leave the run Running for ever.
    const ended = await waitFor(
      'the run to end',
      async () => {
        const { status } = await handle.describe();
        return status.name === 'RUNNING' ? undefined : status.name;
      },
      15_000,
    );
    expect(ended).toBe('FAILED');
    const err: unknown = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(message);
  });

  it('keeps its counters, recent choices and PRNG across continue-as-new', async () => {
    const before = (await managedGuests()).length;
    // A higher limit leaves room for a few more containers, created across several runs.
    const handle = await startGenerator({ policy: { ...policy, limitPercent: 22 }, iterationsPerRun: 2 });
    const firstRun = handle.firstExecutionRunId;
    const full = await untilStatus(
      handle,
      'the nodes full again',
      (st) => st.counters.skippedForCapacity >= 2,
    );
    expect((await handle.describe()).runId).not.toBe(firstRun);
    expect(full.counters.created).toBeGreaterThanOrEqual(2);
    expect((await managedGuests()).length).toBe(before + full.counters.created);
    expect(full.recent.map((c) => c.outcome)).toEqual([
      ...Array<string>(full.counters.created).fill('created'),
      ...Array<string>(full.counters.skippedForCapacity).fill('skipped-capacity'),
    ]);
    expect(full.seed).not.toBe(42);
    await stop(handle);
    await expectReplays(s.env.client.workflow.getHandle(handle.workflowId, firstRun));
  });
});
