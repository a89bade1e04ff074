import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { migrateContainerWorkflow } from '../../../workflows/sagas/migrate';
import type { MigrateInput } from '../../../src/domain';
import { ctView, outcomeAttributes, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';
import { expectReplays } from '../../support/temporal';
import { ContainerBusyError, startOperation } from '../../../src/temporal/starts';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

function startMigration(input: Omit<MigrateInput, 'scope'>) {
  return s.startSaga<typeof migrateContainerWorkflow>('migrateContainerWorkflow', input);
}

async function vzmigrateCount(node: string, vmid: number): Promise<number> {
  const tasks = await s.sim.pve.tasks(node, { vmid, typefilter: 'vzmigrate', source: 'all' });
  return tasks.filter((t) => t.type === 'vzmigrate').length;
}

describe('migrateContainerWorkflow', () => {
  it('moves a running container to the target and leaves it running there, config intact', async () => {
    const before = await ctView(s.sim, 1401);
    expect(before).toMatchObject({ node: 'srv-px1', status: 'running' });
    const handle = await startMigration({ vmid: 1401, target: 'srv-px2' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'succeeded', result: { outcome: 'succeeded', node: 'srv-px2' } });
    if (outcome.ok) {
      expect(outcome.result.steps).toEqual(['preflight', 'shutdown', 'migrate', 'start', 'verify', 'done']);
    }
    expect(await ctView(s.sim, 1401)).toEqual({ ...before, node: 'srv-px2' });
    expect(await vzmigrateCount('srv-px1', 1401)).toBe(1);
    await expectReplays(handle, 'migrate-running-container');
  });

  it('moves a stopped container without starting it', async () => {
    const handle = await startMigration({ vmid: 1403, target: 'srv-px1' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome.type).toBe('succeeded');
    expect(await ctView(s.sim, 1403)).toMatchObject({ node: 'srv-px1', status: 'stopped' });
  });

  it('with mode restart uses one PVE restart-migration task', async () => {
    const handle = await startMigration({ vmid: 1400, target: 'srv-px2', mode: 'restart' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome.type).toBe('succeeded');
    expect(await ctView(s.sim, 1400)).toMatchObject({ node: 'srv-px2', status: 'running' });
    // Move it back for the tests that follow.
    const back = await startMigration({ vmid: 1400, target: 'srv-px1', mode: 'restart' });
    expect((await s.run(() => outcomeOf(back))).type).toBe('succeeded');
  });

  it.each([
    [{ vmid: 100, target: 'srv-px2' }, /not managed/],
    [{ vmid: 1499, target: 'srv-px2' }, /does not exist/],
    [{ vmid: 1402, target: 'srv-px2' }, /already on srv-px2/],
    [{ vmid: 1402, target: 'srv-px9' }, /no such node 'srv-px9'/],
  ])('refuses %j without touching anything', async (input, message) => {
    const handle = await startMigration(input);
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ type: 'Refused', message: expect.stringMatching(message) });
  });

  it('a refusal completes the run (not Failed in the Web UI), with outcome refused and why', async () => {
    const handle = await startMigration({ vmid: 1402, target: 'srv-px2' });
    const result = await s.run(() => handle.result());
    expect(result).toEqual({
      operation: 'migrate',
      outcome: 'refused',
      vmid: 1402,
      node: '',
      steps: ['preflight', 'refused'],
      detail: 'CT 1402 is already on srv-px2',
    });
    expect(await outcomeAttributes(handle)).toEqual({
      status: 'COMPLETED',
      outcome: 'refused',
      needsAttention: false,
    });
    // The Web UI's Current details of the run.
    const metadata = await s.run(() =>
      handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata'),
    );
    expect(metadata.currentDetails).toBe('**migrate 1402**: refused (CT 1402 is already on srv-px2)');
    expect(await vzmigrateCount('srv-px2', 1402)).toBe(0);
    await expectReplays(handle, 'migrate-refused-completes');
  });

  it('refuses a second operation on a container while the first runs, which completes', async () => {
    const opts = { cluster: `busy-${s.taskQueue}`, taskQueue: s.taskQueue };
    const first = await startOperation(s.env.client, 'migrate', { vmid: 1402, target: 'srv-px1' }, opts);
    const second = startOperation(s.env.client, 'migrate', { vmid: 1402, target: 'srv-px1' }, opts);
    await expect(second).rejects.toBeInstanceOf(ContainerBusyError);
    await expect(second).rejects.toThrow(
      `CT 1402 is busy: another operation runs as workflow ${first.workflowId}`,
    );
    expect(await s.run(() => outcomeOf(first))).toMatchObject({ ok: true, result: { node: 'srv-px1' } });
    expect(await vzmigrateCount('srv-px2', 1402)).toBe(1);
    // Once it has finished, the container takes a new operation under the same id.
    const again = await startOperation(s.env.client, 'migrate', { vmid: 1402, target: 'srv-px2' }, opts);
    expect(again.workflowId).toBe(first.workflowId);
    expect(await s.run(() => outcomeOf(again))).toMatchObject({ ok: true, result: { node: 'srv-px2' } });
  });

  it('rejects invalid input with a message naming the field', async () => {
    const handle = await startMigration({ vmid: 1402, target: 'no spaces allowed' });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({
      type: 'InvalidInput',
      message: expect.stringMatching(/target: expected a node name/),
    });
  });
});
