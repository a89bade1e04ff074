// The drop saga on pve-sim: stop (with a snapshot first) against destroy, the hard stop after a
// shutdown that times out, and a failed destroy that must leave the container as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { dropContainerWorkflow } from '../../../workflows/sagas/drop';
import type { DropInput } from '../../../src/domain';
import { ctView, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { expectReplays } from '../../support/temporal';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

function startDrop(input: Omit<DropInput, 'scope'>) {
  return s.startSaga<typeof dropContainerWorkflow>('dropContainerWorkflow', input);
}

async function view(vmid: number) {
  const v = await ctView(s.sim, vmid);
  if (!v) throw new Error(`CT ${vmid} is missing from the scenario`);
  return v;
}

async function taskStatuses(node: string, vmid: number, type: string): Promise<string[]> {
  const tasks = await s.sim.pve.tasks(node, { vmid, typefilter: type, source: 'all' });
  return tasks
    .filter((t) => t.type === type)
    .sort((a, b) => a.starttime - b.starttime)
    .map((t) => t.status ?? '');
}

describe('dropContainerWorkflow', () => {
  it('mode stop takes a snapshot first and leaves the container stopped, config intact', async () => {
    const before = await view(1401);
    expect(before.status).toBe('running');
    const handle = await startDrop({ vmid: 1401, mode: 'stop', snapshotFirst: true });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { node: before.node } });
    if (outcome.ok)
      expect(outcome.result.steps).toEqual(['preflight', 'snapshot', 'shutdown', 'verify', 'done']);
    expect(await ctView(s.sim, 1401)).toEqual({ ...before, status: 'stopped' });
    const snapshots = (await s.sim.pve.snapshots(before.node, 1401)).map((sn) => sn.name);
    expect(snapshots).toEqual([expect.stringMatching(/^pre-drop-/), 'current']);
    await expectReplays(handle, 'drop');
  });

  it('mode destroy shuts the container down and removes it', async () => {
    const before = await view(1400);
    const handle = await startDrop({ vmid: 1400, mode: 'destroy' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { node: '' } });
    if (outcome.ok)
      expect(outcome.result.steps).toEqual(['preflight', 'shutdown', 'destroy', 'verify', 'done']);
    expect(await ctView(s.sim, 1400)).toBeNull();
    expect(await taskStatuses(before.node, 1400, 'vzdestroy')).toEqual(['OK']);
  });

  it('destroys a stopped container without a shutdown', async () => {
    const before = await view(1403);
    expect(before.status).toBe('stopped');
    const handle = await startDrop({ vmid: 1403 });
    const outcome = await s.run(() => outcomeOf(handle));
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.result.steps).toEqual(['preflight', 'destroy', 'verify', 'done']);
    expect(await ctView(s.sim, 1403)).toBeNull();
    expect(await taskStatuses(before.node, 1403, 'vzshutdown')).toEqual([]);
  });

  it('starts the container again when its destroy fails', async () => {
    const before = await view(1402);
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzdestroy', times: 1 });
    const handle = await startDrop({ vmid: 1402, mode: 'destroy' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'RolledBack', message: expect.stringMatching(/running again/) });
    expect(await ctView(s.sim, 1402)).toEqual(before);
    expect(await taskStatuses(before.node, 1402, 'vzdestroy')).toHaveLength(1);
  });

  it('stops hard when the shutdown times out', async () => {
    const before = await view(1402);
    await s.sim.admin('PUT', '/_sim/containers/1402/workload', { profile: 'idle', shutdownSeconds: 30 });
    const handle = await startDrop({ vmid: 1402, mode: 'stop', shutdownTimeoutSeconds: 2 });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome.type).toBe('succeeded');
    expect(await ctView(s.sim, 1402)).toEqual({ ...before, status: 'stopped' });
    // The earlier tests' shutdowns come first; this run's is the last one.
    expect((await taskStatuses(before.node, 1402, 'vzshutdown')).at(-1)).toBe('container did not stop');
    expect(await taskStatuses(before.node, 1402, 'vzstop')).toEqual(['OK']);
  });

  it.each([
    [101, /CT 101 is not managed/],
    [1499, /CT 1499 does not exist/],
  ])('refuses CT %i', async (vmid, message) => {
    const handle = await startDrop({ vmid, mode: 'destroy' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'Refused', message: expect.stringMatching(message) });
    if (vmid === 101) expect(await ctView(s.sim, 101)).toMatchObject({ status: 'running' });
  });
});
