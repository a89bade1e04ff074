// A Temporal cancellation at every step of every saga: each run ends rolled back (the container as
// it was) or succeeded (the goal reached), never needs-attention and never with a container that
// ran left stopped. The clock runs slowly so every step lasts long enough to be cancelled in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { waitForTask } from '../../../src/proxmox';
import {
  ctView,
  labScope,
  outcomeAttributes,
  startSagaEnv,
  waitForStep,
  type CtView,
  type SagaEnv,
} from '../../support/saga-env';

const template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv({ clock: { mode: 'realtime', speed: 4 } });
});
afterAll(async () => {
  await s?.teardown();
});

async function finish(node: string, upid: string): Promise<void> {
  const done = await waitForTask(s.sim.pve, node, upid, { pollMs: 50 });
  if (done.exitstatus !== 'OK') throw new Error(`${upid} ended ${done.exitstatus}`);
}

let nextVmid = 1420;

/** A running CT of the case's own on srv-px1, optionally with a snapshot `base`. */
async function freshContainer(withSnapshot = false): Promise<number> {
  const vmid = nextVmid++;
  await finish(
    'srv-px1',
    await s.sim.pve.createContainer('srv-px1', {
      vmid,
      ostemplate: template,
      hostname: `cancel-${vmid}`,
      memory: 256,
      swap: 0,
      cores: 1,
      rootfs: 'local-lvm:4',
    }),
  );
  if (withSnapshot) await finish('srv-px1', await s.sim.pve.createSnapshot('srv-px1', vmid, 'base'));
  await finish('srv-px1', await s.sim.pve.startContainer('srv-px1', vmid));
  return vmid;
}

async function managedVmids(): Promise<number[]> {
  return (await s.sim.pve.clusterResources('vm'))
    .map((g) => g.vmid ?? 0)
    .filter((id) => id >= labScope.vmidMin && id <= labScope.vmidMax)
    .sort((a, b) => a - b);
}

interface Case {
  saga: string;
  step: string;
  /** Input without scope; `vmid` is filled in with a fresh CT unless `provision`. */
  input: Record<string, unknown>;
  snapshot?: boolean;
  /** What the CT looks like when the saga succeeded, from how it was before. */
  succeeded: (before: CtView) => Partial<CtView> | null;
}

const migrate = (step: string, mode = 'offline'): Case => ({
  saga: 'migrateContainerWorkflow',
  step,
  input: { target: 'srv-px2', mode },
  succeeded: () => ({ node: 'srv-px2', status: 'running' }),
});
const drop = (step: string, mode: 'stop' | 'destroy'): Case => ({
  saga: 'dropContainerWorkflow',
  step,
  input: { mode, snapshotFirst: mode === 'stop' },
  succeeded: () => (mode === 'stop' ? { status: 'stopped' } : null),
});
const scale = (step: string): Case => ({
  saga: 'scaleContainerWorkflow',
  step,
  input: { memoryMiB: 384, settleSeconds: 3 },
  succeeded: () => ({ memory: 384, status: 'running' }),
});
const snapshot = (step: string): Case => ({
  saga: 'snapshotContainerWorkflow',
  step,
  input: { name: 'taken' },
  succeeded: () => ({ status: 'running' }),
});
const rollback = (step: string): Case => ({
  saga: 'rollbackContainerWorkflow',
  step,
  input: { name: 'base' },
  snapshot: true,
  succeeded: () => ({ status: 'running' }),
});
const provision = (step: string): Case => ({
  saga: 'provisionContainerWorkflow',
  step,
  input: { node: 'srv-px1', memoryMiB: 256, template },
  succeeded: () => ({ status: 'running' }),
});

const cases: Case[] = [
  ...['preflight', 'shutdown', 'migrate', 'start', 'verify'].map((step) => migrate(step)),
  migrate('restart-migrate', 'restart'),
  ...['snapshot', 'shutdown', 'verify'].map((step) => drop(step, 'stop')),
  ...['shutdown', 'destroy', 'verify'].map((step) => drop(step, 'destroy')),
  ...['apply', 'settle', 'verify'].map(scale),
  ...['snapshot', 'verify'].map(snapshot),
  ...['rollback', 'start', 'verify'].map(rollback),
  ...['allocate', 'create', 'start', 'verify'].map(provision),
];

describe('a cancelled saga ends rolled back or succeeded', { timeout: 180_000 }, () => {
  it.each(cases)('$saga cancelled at $step', async (c) => {
    const isProvision = c.saga === 'provisionContainerWorkflow';
    const vmid = isProvision ? null : await freshContainer(c.snapshot);
    const before = vmid === null ? null : await ctView(s.sim, vmid);
    const vmidsBefore = await managedVmids();
    const handle: WorkflowHandle = await s.startSaga(c.saga, vmid === null ? c.input : { ...c.input, vmid });
    await s.run(() => waitForStep(handle, c.step));
    // A run that already ended has nothing left to cancel; it is checked like any other.
    await handle.cancel().catch(() => undefined);
    await s.run(() => handle.result().catch(() => undefined));

    const ended = await outcomeAttributes(handle);
    expect(['COMPLETED', 'CANCELLED']).toContain(ended.status);
    expect(ended.needsAttention).toBe(false);
    expect(['succeeded', 'rolled-back']).toContain(ended.outcome);

    if (isProvision) {
      const added = (await managedVmids()).filter((id) => !vmidsBefore.includes(id));
      if (ended.outcome === 'rolled-back') expect(added).toEqual([]);
      else {
        expect(added).toHaveLength(1);
        expect(await ctView(s.sim, added[0] ?? 0)).toMatchObject({ status: 'running' });
      }
      return;
    }
    if (vmid === null || before === null) throw new Error('no CT for the case');
    const now = await ctView(s.sim, vmid);
    if (ended.outcome === 'rolled-back') {
      expect(now).toEqual(before);
    } else {
      const goal = c.succeeded(before);
      if (goal === null) expect(now).toBeNull();
      else expect(now).toMatchObject(goal);
    }
    // Whatever the outcome, no task of the saga is left running and no lock is left behind.
    if (now) {
      const config = await s.sim.pve.containerConfig(now.node, vmid);
      expect(config.lock).toBeUndefined();
    }
  });
});
