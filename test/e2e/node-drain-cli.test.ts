// `pve-autopilot node drain|undrain|status` end to end: a subprocess per call against this file's
// pve-sim (lab-2node), the shared Temporal dev server and a worker with the real activities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { cliWorld, type CliWorld } from './support/cli';
import { readmeArgs } from '../support/readme-args';

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  await s.run(async () => undefined);
  w = await cliWorld(s.sim.sim, s.taskQueue);
});
afterAll(async () => {
  await w?.cli(['node', 'undrain', 'srv-px1']).catch(() => undefined);
  await s?.teardown();
});

describe('pve-autopilot node', { timeout: 240_000 }, () => {
  it('refuses an unknown node before starting anything', async () => {
    const run = await w.cli(['node', 'drain', 'srv-px9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('node drain: unknown node "srv-px9"; the cluster has srv-px1, srv-px2');
  });

  it('drains srv-px1 with --wait, shows it in status and node status, refuses a second drain, undrains', async () => {
    const drain = await w.cli(readmeArgs('pve-autopilot node drain srv-px1 --parallel 2 --wait'));
    expect(drain.code).toBe(0);
    expect(drain.stdout).toContain(
      'Started: drain of srv-px1, 2 migration(s) at a time: 2 managed container(s) to move',
    );
    expect(drain.stdout).toContain(`workflow drain-${w.cluster}-srv-px1`);
    expect(drain.stdout).toMatch(/Drained: srv-px1 has no managed container left; 2 moved in [\d.]+ s/);
    expect(drain.stdout).toContain('left on srv-px1 (not managed): CT 100 (gateway)');
    expect(drain.stderr).toMatch(/drain srv-px1: evacuating, moved \d+/);
    const guests = await s.sim.pve.clusterResources('vm');
    expect(guests.filter((g) => g.node === 'srv-px1').map((g) => g.vmid)).toEqual([100]);

    const again = await w.cli(['node', 'drain', 'srv-px1']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('node drain: node srv-px1 is already drained');

    const status = await w.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/NODE +ZONE +STATUS +CPU % +MEM % +(?:MANAGED % +)?DISK % +CTS +DRAIN\n/);
    expect(status.stdout).toMatch(/\nsrv-px1 +- +online +[\d.]+ +[\d.]+ +[\d.]+ +1 +drained\n/);
    expect(status.stdout).toMatch(/\nsrv-px2 +- +online +[\d.]+ +[\d.]+ +[\d.]+ +\d+ +-\n/);
    const json = JSON.parse((await w.cli(['status', '--json'])).stdout) as {
      nodes: Array<{ name: string; drain: string | null }>;
    };
    expect(json.nodes.map((n) => [n.name, n.drain])).toEqual([
      ['srv-px1', 'drained'],
      ['srv-px2', null],
    ]);
    const nodes = await w.cli(readmeArgs('pve-autopilot node status'));
    expect(nodes.stdout).toMatch(/\nsrv-px1 +drained +2 +0 +0 +2 +.* +100\n/);

    // The last open node cannot be drained too: nothing could take its containers.
    const last = await w.cli(['node', 'drain', 'srv-px2']);
    expect(last.code).toBe(3);
    expect(last.stderr).toContain(
      'no other online node that is not drained could take the containers of srv-px2',
    );

    const undrain = await w.cli(readmeArgs('pve-autopilot node undrain srv-px1'));
    expect(undrain.code).toBe(0);
    expect(undrain.stdout).toContain('Undrained: srv-px1 takes containers again');
    const twice = await w.cli(['node', 'undrain', 'srv-px1']);
    expect(twice.code).toBe(3);
    expect(twice.stderr).toContain('node undrain: node srv-px1 is not drained');
  });
});
