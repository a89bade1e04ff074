// The same scenario, seed and call sequence give byte-identical /_sim/state; another seed does not.
import { describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../simulator/index.js';
import { TEST_DATA_DIR, admin, caFetch, raw } from './support/client.js';

async function run(seed: number): Promise<string> {
  const sim = await startSimulator({
    scenario: 'zones-6node',
    seed,
    port: 0,
    clock: { mode: 'manual' },
    dataDir: TEST_DATA_DIR,
    quiet: true,
  });
  try {
    await script(sim);
    const res = await caFetch(sim.caFile)(`${sim.url}/_sim/state`);
    return await res.text();
  } finally {
    await sim.stop();
  }
}

/** A call sequence touching random choices: fault rates, workloads, OOM, tasks, migrations. */
async function script(sim: RunningSim): Promise<void> {
  await admin(sim, 'POST', '/faults', { path: '/cluster/resources', status: 502, rate: 0.3 });
  await admin(sim, 'POST', '/faults', { taskType: 'vzstart', rate: 0.5 });
  for (let i = 0; i < 10; i++) await raw(sim, 'GET', '/cluster/resources');
  await raw(sim, 'POST', '/nodes/pve-c1/lxc/1201/migrate', { form: { target: 'pve-a1', restart: 1 } });
  await raw(sim, 'POST', '/nodes/pve-b1/lxc/1101/status/shutdown', { form: { timeout: 30 } });
  await sim.advance(45);
  for (const vmid of [1101]) await raw(sim, 'POST', `/nodes/pve-b1/lxc/${vmid}/status/start`);
  await raw(sim, 'POST', '/nodes/pve-a2/lxc', {
    form: {
      vmid: 1500,
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      rootfs: 'local-lvm:8',
      pool: 'dns',
      start: 1,
    },
  });
  await admin(sim, 'PUT', '/containers/1002/workload', {
    profile: 'spiky',
    cpu: 0.1,
    peakCpu: 0.9,
    spikeChance: 0.3,
  });
  await admin(sim, 'PUT', '/containers/301/workload', {
    profile: 'leak',
    memMiB: 3000,
    leakMiBPerHour: 5000,
  });
  await sim.advance(3 * 3600);
  await raw(sim, 'POST', '/nodes/pve-a1/lxc/1001/snapshot', { form: { snapname: 'pre' } });
  await sim.advance(60);
}

describe('determinism', () => {
  it('the same scenario, seed and calls give byte-identical state', async () => {
    const a = await run(7);
    const b = await run(7);
    expect(a.length).toBeGreaterThan(10_000);
    expect(a === b).toBe(true);
    const state = JSON.parse(a) as { data: { tasks: Array<{ type: string; exitstatus?: string }> } };
    expect(state.data.tasks.map((t) => t.type)).toEqual(
      expect.arrayContaining(['vzmigrate', 'vzshutdown', 'vzstart', 'vzcreate', 'vzsnapshot']),
    );
  });

  it('a different seed gives a different state', async () => {
    expect(await run(7)).not.toBe(await run(8));
  });
});
