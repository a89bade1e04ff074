// The pve-autopilot command end to end, for what guards an operation at the edge: reads that ride
// out a transient API error, and `cancel`. A subprocess per call, against this file's pve-sim, the
// shared Temporal dev server and a worker with the real activities.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ctView, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { cliWorld, type CliWorld } from './support/cli';
import { waitFor } from '../support/manual-clock';
import { sagaProgressQuery } from '../../workflows/sagas/saga';

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  await s.run(async () => undefined);
  w = await cliWorld(s.sim.sim, s.taskQueue);
});
afterEach(async () => {
  await s.sim.admin('DELETE', '/_sim/faults');
});
afterAll(async () => {
  await s?.teardown();
});

describe('pve-autopilot reads of the Proxmox API', () => {
  it.each([1, 3])('ride out %i failed GET /cluster/resources in a row: status exits 0', async (times) => {
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'GET',
      path: '/cluster/resources',
      status: 500,
      times,
    });
    const run = await w.cli(['status']);
    expect(run.stderr).not.toContain('cannot reach');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/srv-px1 +- +online/);
    // Every injected failure was used up: the command really retried.
    expect(await s.sim.admin<unknown[]>('GET', '/_sim/faults')).toEqual([]);
  });

  it('give up with exit 5 when the API keeps failing', async () => {
    await s.sim.admin('POST', '/_sim/faults', { method: 'GET', path: '/cluster/resources', status: 500 });
    const began = Date.now();
    const run = await w.cli(['status']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('cannot reach the Proxmox VE API');
    // Four attempts over about five seconds, not a minute.
    expect(Date.now() - began).toBeLessThan(30_000);
  });
});

describe('pve-autopilot scale beyond what the node holds', () => {
  it.each([
    [['--cores', '999'], /999 cores asked, but node srv-px1 has 16 CPUs/],
    [['--memory', '1000000'], /node srv-px1 would use \d+% of its memory, above the admission limit/],
  ])('scale 1401 %j is refused: exit 3, nothing changed', async (flags, message) => {
    const before = await ctView(s.sim, 1401);
    const run = await w.cli(['scale', '1401', ...flags]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(message);
    expect(await ctView(s.sim, 1401)).toEqual(before);
  });
});

describe('pve-autopilot cancel', () => {
  it('cancels the operation running on a container: it rolls back, exit 1, the CT as it was', async () => {
    const before = await ctView(s.sim, 1402);
    const start = await w.cli(['scale', '1402', '--memory', '2048', '--no-wait', '--json']);
    expect(start.code).toBe(0);
    const { workflowId } = JSON.parse(start.stdout) as { workflowId: string };
    expect(workflowId).toBe(`ct-${w.cluster}-1402`);
    const handle = s.env.client.workflow.getHandle(workflowId);
    // Cancelled while the new limits settle, after the change was applied.
    await s.run(() =>
      waitFor('the settle step', async () => {
        const progress = await handle.query(sagaProgressQuery);
        return progress.step === 'settle' ? true : undefined;
      }),
    );
    expect(await ctView(s.sim, 1402)).toMatchObject({ memory: 2048 });

    const run = await w.cli(['cancel', '1402']);
    expect(run.stdout).toMatch(/^Cancelling: scale CT 1402: memory 2048 MiB/);
    expect(run.stdout).toContain(`  workflow ${workflowId}  `);
    expect(run.stdout).toMatch(/\nCancelled: scale CT 1402: memory 2048 MiB.*, rolled back\n$/);
    expect(run.stderr).toContain('compensate');
    expect(run.code).toBe(1);
    expect(await ctView(s.sim, 1402)).toEqual(before);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it.each([
    [['cancel', '1402'], /cancel: no operation running on CT 1402: the last one, ct-\S+-1402, is cancelled/],
    [['cancel', '1499'], /cancel: no operation on CT 1499: ct-\S+-1499 was never started/],
  ])('%j with nothing running there exits 3 with a clear message', async (args, message) => {
    const run = await w.cli(args);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
  });

  it('refuses to cancel what is not a container operation: exit 2', async () => {
    const id = `not-a-saga-${w.cluster}`;
    const other = await s.env.client.workflow.start('generatorWorkflow', {
      taskQueue: `nobody-${w.cluster}`,
      workflowId: id,
      args: [{}],
    });
    try {
      const run = await w.cli(['cancel', id]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`cancel: ${id} is a generatorWorkflow, not a container operation`);
      expect((await other.describe()).status.name).toBe('RUNNING');
    } finally {
      await other.terminate('test over');
    }
  });
});
