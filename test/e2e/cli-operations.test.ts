// The pve-autopilot command end to end, for what guards an operation at the edge: reads that ride
// out a transient API error, and `cancel`. A subprocess per call, against this file's pve-sim, the
// shared Temporal dev server and a worker with the real activities.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ctView, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { cliWorld, type CliWorld } from './support/cli';

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
    expect(run.stdout).toMatch(/srv-px1 +online/);
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
