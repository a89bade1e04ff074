// The snapshot and rollback sagas on pve-sim: a snapshot that is listed, a rollback that restores
// the snapshot's config and the run state, and failures of either task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { snapshotContainerWorkflow } from '../../../workflows/sagas/snapshot';
import type { rollbackContainerWorkflow } from '../../../workflows/sagas/rollback';
import type { RollbackInput, SnapshotInput } from '../../../src/domain';
import { ctView, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { expectReplays } from '../../support/temporal';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

function startSnapshot(input: Omit<SnapshotInput, 'scope'>) {
  return s.startSaga<typeof snapshotContainerWorkflow>('snapshotContainerWorkflow', input);
}

function startRollback(input: Omit<RollbackInput, 'scope'>) {
  return s.startSaga<typeof rollbackContainerWorkflow>('rollbackContainerWorkflow', input);
}

async function view(vmid: number) {
  const v = await ctView(s.sim, vmid);
  if (!v) throw new Error(`CT ${vmid} is missing from the scenario`);
  return v;
}

async function snapshotNames(node: string, vmid: number): Promise<string[]> {
  return (await s.sim.pve.snapshots(node, vmid)).map((sn) => sn.name).filter((n) => n !== 'current');
}

async function taskTypes(node: string, vmid: number): Promise<string[]> {
  const tasks = await s.sim.pve.tasks(node, { vmid, source: 'all' });
  return tasks.sort((a, b) => a.starttime - b.starttime).map((t) => t.type);
}

describe('snapshot and rollback', () => {
  it('takes a snapshot of a running container, lists it and leaves the container running', async () => {
    const before = await view(1401);
    expect(before.status).toBe('running');
    const handle = await startSnapshot({ vmid: 1401, name: 'before-change', description: 'test' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'succeeded',
      result: { steps: ['preflight', 'snapshot', 'verify', 'done'] },
    });
    expect(await snapshotNames(before.node, 1401)).toEqual(['before-change']);
    expect(await ctView(s.sim, 1401)).toEqual(before);
    await expectReplays(handle, 'snapshot');
  });

  it("rolls back to the snapshot's config and starts the container again", async () => {
    const before = await view(1401);
    const { digest } = await s.sim.pve.containerConfig(before.node, 1401);
    await s.sim.pve.updateConfig(
      before.node,
      1401,
      { memory: before.memory * 2, cores: before.cores + 1 },
      digest,
    );
    const handle = await startRollback({ vmid: 1401, name: 'before-change' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'succeeded',
      result: { steps: ['preflight', 'rollback', 'start', 'verify', 'done'] },
    });
    expect(await ctView(s.sim, 1401)).toEqual(before);
    // PVE's rollback stopped it; the saga started it once, after the rollback.
    expect((await taskTypes(before.node, 1401)).slice(-2)).toEqual(['vzrollback', 'vzstart']);
    await expectReplays(handle, 'rollback');
  });

  it('rolls back a stopped container and leaves it stopped', async () => {
    const before = await view(1403);
    expect(before.status).toBe('stopped');
    const snap = await s.run(async () => outcomeOf(await startSnapshot({ vmid: 1403, name: 'base' })));
    expect(snap.type).toBe('succeeded');
    const handle = await startRollback({ vmid: 1403, name: 'base' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'succeeded',
      result: { steps: ['preflight', 'rollback', 'verify', 'done'] },
    });
    expect(await ctView(s.sim, 1403)).toEqual(before);
    expect(await taskTypes(before.node, 1403)).not.toContain('vzstart');
  });

  it('leaves no snapshot behind when the snapshot task fails', async () => {
    const before = await view(1400);
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzsnapshot', times: 1 });
    const handle = await startSnapshot({ vmid: 1400, name: 'doomed' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'RolledBack',
      message: expect.stringMatching(/no snapshot 'doomed' left/),
    });
    expect(await snapshotNames(before.node, 1400)).toEqual([]);
    expect(await ctView(s.sim, 1400)).toEqual(before);
  });

  it('starts the container again when the rollback task fails', async () => {
    const before = await view(1401);
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzrollback', times: 1 });
    const handle = await startRollback({ vmid: 1401, name: 'before-change' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'RolledBack', message: expect.stringMatching(/is running on/) });
    expect(await ctView(s.sim, 1401)).toEqual(before);
  });

  it('refuses a snapshot name the container already uses', async () => {
    const handle = await startSnapshot({ vmid: 1401, name: 'before-change' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'Refused',
      message: expect.stringMatching(/already has a snapshot/),
    });
  });

  it('refuses a rollback to a snapshot that does not exist', async () => {
    const before = await view(1402);
    const handle = await startRollback({ vmid: 1402, name: 'nowhere' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'Refused',
      message: expect.stringMatching(/no snapshot named 'nowhere'/),
    });
    expect(await ctView(s.sim, 1402)).toEqual(before);
  });
});
