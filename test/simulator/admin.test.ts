// The /_sim/ admin API: faults (HTTP and task), nodes offline and back, stuck locks, workloads and
// direct memory use (OOM), clock, counters, reset and the state file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../simulator/index.js';
import {
  TEST_DATA_DIR,
  admin,
  caFetch,
  raw,
  taskLog,
  tokenApi,
  waitTask,
  startManualLab,
} from './support/client.js';

type Row = Record<string, unknown>;
let sim: RunningSim;
let api: Proxmox.Api;

beforeAll(async () => {
  sim = await startManualLab();
  api = tokenApi(sim);
});
afterAll(async () => sim.stop());
beforeEach(async () => {
  await admin(sim, 'POST', '/reset');
});

describe('HTTP faults', () => {
  it('fail exactly the next N matching calls with the given status, then clear themselves', async () => {
    const { id } = await admin<{ id: string }>(sim, 'POST', '/faults', {
      method: 'GET',
      path: '/cluster/resources',
      status: 503,
      times: 2,
    });
    expect(id).toMatch(/^f\d+$/);
    for (let i = 0; i < 2; i++) {
      const res = await raw(sim, 'GET', '/cluster/resources');
      expect([res.status, res.reason]).toEqual([503, 'Service Unavailable']);
      expect(res.json).toEqual({ data: null, message: 'Service Unavailable\n' });
    }
    expect((await raw(sim, 'GET', '/cluster/resources')).status).toBe(200);
    expect(await admin(sim, 'GET', '/faults')).toEqual([]);
  });

  it('match concrete paths by glob pattern and only the given method', async () => {
    await admin(sim, 'POST', '/faults', {
      method: 'POST',
      path: '/nodes/*/lxc/*/status/*',
      status: 500,
      message: 'injected',
    });
    expect((await raw(sim, 'GET', '/nodes/srv-px1/lxc/1400/status/current')).status).toBe(200);
    const res = await raw(sim, 'POST', '/nodes/srv-px1/lxc/1400/status/stop');
    expect([res.status, res.reason]).toEqual([500, 'injected']);
    await admin(sim, 'DELETE', '/faults');
    expect((await raw(sim, 'POST', '/nodes/srv-px1/lxc/1400/status/stop')).status).toBe(200);
  });

  it('fail about the given fraction of calls', async () => {
    await admin(sim, 'POST', '/faults', { path: '/version', status: 500, rate: 0.5 });
    let failed = 0;
    for (let i = 0; i < 60; i++) if ((await raw(sim, 'GET', '/version')).status === 500) failed++;
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(45);
  });

  it('hang a call until the client gives up, and add latency to others', async () => {
    await admin(sim, 'POST', '/faults', { path: '/version', hang: true, times: 1 });
    const fetch = caFetch(sim.caFile);
    const headers = { Authorization: `PVEAPIToken=${sim.token.id}=${sim.token.secret}` };
    await expect(
      fetch(`${sim.url}/api2/json/version`, { headers, signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    expect((await fetch(`${sim.url}/api2/json/version`, { headers })).status).toBe(200);
    await admin(sim, 'POST', '/faults', { path: '/nodes', latencyMs: 150 });
    const t0 = performance.now();
    expect((await raw(sim, 'GET', '/nodes')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('reject a fault without an effect', async () => {
    await expect(admin(sim, 'POST', '/faults', { path: '/version' })).rejects.toThrow(
      /400 a fault needs status, hang or latencyMs/,
    );
  });
});

describe('task faults', () => {
  it('fail the next task of a type with the injected message', async () => {
    await admin(sim, 'POST', '/faults', {
      taskType: 'vzsnapshot',
      times: 1,
      message: 'zfs error: dataset is busy',
    });
    const ct = api.nodes.$('srv-px1').lxc.$(1400);
    expect((await waitTask(sim, api, await ct.snapshot.$post({ snapname: 's1' }))).exitstatus).toBe(
      'zfs error: dataset is busy',
    );
    expect((await ct.config.$get()).lock).toBeUndefined();
    expect((await waitTask(sim, api, await ct.snapshot.$post({ snapname: 's1' }))).exitstatus).toBe('OK');
  });

  it('a failed create leaves no container behind', async () => {
    await admin(sim, 'POST', '/faults', { taskType: 'vzcreate', times: 1 });
    const upid = await api.nodes.$('srv-px1').lxc.$post({
      vmid: 1460,
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      rootfs: 'local-lvm:4',
    });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('simulated vzcreate failure');
    expect(((await api.cluster.resources.$get({ type: 'vm' })) as Row[]).some((r) => r.vmid === 1460)).toBe(
      false,
    );
  });
});

describe('nodes going offline', () => {
  it('makes calls proxied to the node fail and shows it offline cluster-wide until it is back', async () => {
    await admin(sim, 'POST', '/nodes/srv-px2/offline');
    const res = await raw(sim, 'GET', '/nodes/srv-px2/status');
    expect([res.status, res.reason]).toEqual([595, 'No route to host']);
    expect((await raw(sim, 'GET', '/nodes/srv-px2/lxc/1402/status/current')).status).toBe(595);
    const nodes = await api.nodes.$get();
    expect(nodes.find((n) => n.node === 'srv-px2')?.status).toBe('offline');
    const vms = (await api.cluster.resources.$get({ type: 'vm' })) as Row[];
    expect(vms.find((v) => v.vmid === 1402)?.status).toBe('unknown');
    const status = (await api.cluster.status.$get()) as Row[];
    expect(status.find((s) => s.name === 'srv-px2')?.online).toBe(0);
    const upid = await api.nodes.$('srv-px1').lxc.$(1400).migrate.$post({ target: 'srv-px2', restart: true });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('migration aborted');
    await admin(sim, 'POST', '/nodes/srv-px2/online');
    expect((await raw(sim, 'GET', '/nodes/srv-px2/status')).status).toBe(200);
  });
});

describe('locks set from the admin API', () => {
  it('stay until cleared, blocking operations like a lock a crashed task left', async () => {
    await admin(sim, 'POST', '/containers/1401/lock', { lock: 'migrate' });
    const res = (await api.cluster.resources.$get({ type: 'vm' })) as Row[];
    expect(res.find((r) => r.vmid === 1401)?.lock).toBe('migrate');
    await sim.advance(3600);
    expect((await raw(sim, 'DELETE', '/nodes/srv-px1/lxc/1401', { form: { force: 1 } })).reason).toBe(
      'CT is locked (migrate)',
    );
    await admin(sim, 'DELETE', '/containers/1401/lock');
    expect((await api.nodes.$('srv-px1').lxc.$(1401).config.$get()).lock).toBeUndefined();
  });
});

describe('workloads and memory', () => {
  it('a leak profile grows memory while the container runs', async () => {
    await admin(sim, 'PUT', '/containers/1401/workload', {
      profile: 'leak',
      memMiB: 100,
      leakMiBPerHour: 300,
    });
    const ct = api.nodes.$('srv-px1').lxc.$(1401);
    // A restart frees the leaked memory; measure from there.
    await waitTask(sim, api, await ct.status.stop.$post());
    await waitTask(sim, api, await ct.status.start.$post());
    const m0 = (await ct.status.current.$get()).mem!;
    await sim.advance(3600);
    const m1 = (await ct.status.current.$get()).mem!;
    expect(m1 - m0).toBeGreaterThan(250 * 1024 ** 2);
  });

  it('creating without rootfs uses storage local, which holds no container volumes (as on a default install)', async () => {
    const res = await raw(sim, 'POST', '/nodes/srv-px1/lxc', {
      form: { vmid: 1461, ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' },
    });
    expect([res.status, res.reason]).toEqual([500, "storage 'local' does not support container directories"]);
  });

  it('rejects an unknown profile with a message naming the field', async () => {
    await expect(admin(sim, 'PUT', '/containers/1401/workload', { profile: 'bursty' })).rejects.toThrow(
      /profile: expected one of idle/,
    );
  });

  it('OOM-kills the largest container when a node runs out of memory, and says so in a task log', async () => {
    const ct = api.nodes.$('srv-px1').lxc.$(1400);
    await ct.config.$put({ memory: 32000 });
    await admin(sim, 'PUT', '/containers/1400/usage', { memMiB: 31500 });
    expect((await ct.status.current.$get()).status).toBe('stopped');
    const tasks = (await api.nodes.$('srv-px1').tasks.$get({ vmid: 1400, typefilter: 'vzstop' })) as Row[];
    expect(tasks).toHaveLength(1);
    const log = await taskLog(api, String(tasks[0]!.upid));
    expect(log[0]).toMatch(/^out of memory on node 'srv-px1': [\d.]+ GiB used of 32.00 GiB$/);
    expect(log[1]).toContain('OOM killer stopped CT 1400');
    const node = await api.nodes.$('srv-px1').status.$get();
    expect(node.memory.used).toBeLessThan(node.memory.total);
    expect(((await api.nodes.$('srv-px1').lxc.$get()) as Row[]).find((c) => c.vmid === 1401)?.status).toBe(
      'running',
    );
  });

  it('node figures are the sum of their containers plus host overhead', async () => {
    const list = (await api.nodes.$('srv-px2').lxc.$get()) as Row[];
    const sum = list.filter((c) => c.status === 'running').reduce((a, c) => a + Number(c.mem), 0);
    const node = await api.nodes.$('srv-px2').status.$get();
    expect(node.memory.used).toBeGreaterThan(sum);
    expect(node.memory.used - sum).toBeLessThan(3 * 1024 ** 3);
  });

  it('network counters advance while a container runs', async () => {
    const ct = api.nodes.$('srv-px1').lxc.$(1400);
    const a = await ct.status.current.$get();
    await sim.advance(60);
    const b = await ct.status.current.$get();
    expect(b.netin!).toBeGreaterThan(a.netin!);
    expect(b.netout!).toBeGreaterThan(a.netout!);
  });
});

describe('clock, counters, reset', () => {
  it('advances the manual clock and finishes tasks only as it moves', async () => {
    const c0 = await admin<{ now: number; mode: string }>(sim, 'GET', '/clock');
    expect(c0.mode).toBe('manual');
    const upid = await api.nodes.$('srv-px1').lxc.$(1400).status.stop.$post();
    expect((await api.nodes.$('srv-px1').tasks.$(upid).status.$get()).status).toBe('running');
    const c1 = await admin<{ now: number }>(sim, 'POST', '/clock/advance', { seconds: 5 });
    expect(c1.now - c0.now).toBe(5000);
    expect((await api.nodes.$('srv-px1').tasks.$(upid).status.$get()).status).toBe('stopped');
  });

  it('counts requests per method and path template', async () => {
    await admin(sim, 'DELETE', '/counters');
    await api.cluster.resources.$get();
    await api.cluster.resources.$get({ type: 'vm' });
    await api.nodes.$('srv-px1').lxc.$(1400).status.current.$get();
    await raw(sim, 'POST', '/nodes/srv-px1/lxc/1400/migrate', { form: { target: 'srv-px2' } });
    expect(await admin(sim, 'GET', '/counters')).toEqual({
      'GET /cluster/resources': 2,
      'GET /nodes/{node}/lxc/{vmid}/status/current': 1,
      'POST /nodes/{node}/lxc/{vmid}/migrate': 1,
    });
  });

  it('reset puts the scenario back as it started', async () => {
    const initial = await admin(sim, 'GET', '/state');
    await api.nodes.$('srv-px1').lxc.$(1400).config.$put({ cores: 8 });
    await sim.advance(100);
    expect(await admin(sim, 'GET', '/state')).not.toEqual(initial);
    await admin(sim, 'POST', '/reset');
    expect(await admin(sim, 'GET', '/state')).toEqual(initial);
  });
});

describe('the state file', () => {
  it('keeps the cluster across a restart', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'pve-sim-')), 'state.json');
    const opts = {
      scenario: 'lab-2node',
      port: 0,
      clock: { mode: 'manual' as const },
      dataDir: TEST_DATA_DIR,
      quiet: true,
      stateFile,
    };
    const first = await startSimulator(opts);
    const a = tokenApi(first);
    await a.nodes.$('srv-px1').lxc.$(1400).config.$put({ cores: 6, tags: 'kept' });
    await waitTask(first, a, await a.nodes.$('srv-px1').lxc.$(1401).status.stop.$post());
    await first.advance(30);
    await first.stop();
    const second = await startSimulator(opts);
    try {
      const b = tokenApi(second);
      expect(await b.nodes.$('srv-px1').lxc.$(1400).config.$get()).toMatchObject({ cores: 6, tags: 'kept' });
      expect((await b.nodes.$('srv-px1').lxc.$(1401).status.current.$get()).status).toBe('stopped');
      const tasks = (await b.nodes.$('srv-px1').tasks.$get({ vmid: 1401 })) as Row[];
      expect(tasks.map((t) => t.type)).toEqual(['vzstop']);
    } finally {
      await second.stop();
    }
  });

  it('keeps VMs as VMs across a restart', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'pve-sim-')), 'state.json');
    const opts = {
      scenario: 'zones-6node',
      port: 0,
      clock: { mode: 'manual' as const },
      dataDir: TEST_DATA_DIR,
      quiet: true,
      stateFile,
    };
    const first = await startSimulator(opts);
    const before = (await tokenApi(first).cluster.resources.$get({ type: 'vm' })) as Row[];
    await first.stop();
    const second = await startSimulator(opts);
    try {
      const after = (await tokenApi(second).cluster.resources.$get({ type: 'vm' })) as Row[];
      const vms = (rows: Row[]): unknown[] =>
        rows.filter((r) => r.type === 'qemu').map((r) => [r.id, r.node, r.status]);
      expect(vms(after)).toEqual(vms(before));
      expect(vms(after)).toHaveLength(3);
      expect((await tokenApi(second).nodes.$('pve-c1').qemu.$(401).config.$get()).name).toBe('gitlab');
    } finally {
      await second.stop();
    }
  });
});
