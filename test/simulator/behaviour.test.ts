// How simulated operations unfold over time: migration duration from disk size and bwlimit, the
// realtime clock's speed factor, task lists while tasks run, HA-managed containers, TLS options.
import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../simulator/index.js';
import {
  TEST_DATA_DIR,
  admin,
  pinnedFetch,
  raw,
  tokenApi,
  waitTask,
  startManualLab,
} from './support/client.js';

type Row = Record<string, unknown>;

describe('with a manual clock', () => {
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

  async function migrationSeconds(
    node: string,
    vmid: number,
    params: Record<string, unknown>,
  ): Promise<number> {
    const upid = await api.nodes
      .$(node)
      .lxc.$(vmid)
      .migrate.$post({ target: node === 'srv-px1' ? 'srv-px2' : 'srv-px1', ...params });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('OK');
    const tasks = (await api.nodes.$(node).tasks.$get({ vmid, typefilter: 'vzmigrate' })) as Row[];
    const t = tasks.find((x) => x.upid === upid)!;
    return Number(t.endtime) - Number(t.starttime);
  }

  it('a migration takes longer for a bigger disk and longer still under a bwlimit', async () => {
    await waitTask(sim, api, await api.nodes.$('srv-px1').lxc.$(100).status.stop.$post());
    const small = await migrationSeconds('srv-px1', 100, {}); // ~1.2 GiB used
    const big = await migrationSeconds('srv-px2', 1403, {}); // ~2.4 GiB used
    const limited = await migrationSeconds('srv-px1', 1403, { bwlimit: 25600 }); // 25 MiB/s
    expect(small).toBeGreaterThanOrEqual(5);
    expect(big).toBeGreaterThan(small);
    expect(big).toBeLessThanOrEqual(35);
    expect(limited).toBeGreaterThan(big * 3);
  });

  it('a restart-mode migration stops the container, moves it and starts it on the target', async () => {
    const upid = await api.nodes.$('srv-px1').lxc.$(1400).migrate.$post({ target: 'srv-px2', restart: true });
    expect((await api.nodes.$('srv-px1').lxc.$(1400).status.current.$get()).status).toBe('running');
    await sim.advance(1);
    expect((await api.nodes.$('srv-px1').lxc.$(1400).config.$get()).lock).toBe('migrate');
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('OK');
    const cur = await api.nodes.$('srv-px2').lxc.$(1400).status.current.$get();
    expect(cur).toMatchObject({ status: 'running', vmid: 1400 });
    expect(cur.lock).toBeUndefined();
  });

  it('a second migrate sent while the first runs meets the migrate lock', async () => {
    const first = await api.nodes.$('srv-px2').lxc.$(1403).migrate.$post({ target: 'srv-px1' });
    await sim.advance(1);
    const second = await api.nodes.$('srv-px2').lxc.$(1403).migrate.$post({ target: 'srv-px1' });
    expect((await waitTask(sim, api, second)).exitstatus).toBe('migration aborted');
    expect((await waitTask(sim, api, first)).exitstatus).toBe('OK');
    const all = (await api.nodes
      .$('srv-px2')
      .tasks.$get({ vmid: 1403, typefilter: 'vzmigrate', source: 'all' })) as Row[];
    // The archive lists tasks by the time they ended, newest first: the aborted one ended first.
    expect(all.map((t) => t.status)).toEqual(['OK', 'migration aborted']);
    expect(all.map((t) => t.upid)).toEqual([first, second]);
  });

  it('the active task list shows a task in flight, the archive only finished ones', async () => {
    const upid = await api.nodes.$('srv-px1').lxc.$(1401).status.shutdown.$post();
    const active = (await api.nodes.$('srv-px1').tasks.$get({ vmid: 1401, source: 'active' })) as Row[];
    expect(active.map((t) => t.upid)).toEqual([upid]);
    expect(active[0]).toMatchObject({ status: 'RUNNING', user: 'root@pam', tokenid: 'autopilot' });
    expect(active[0]?.endtime).toBeUndefined();
    expect((await api.nodes.$('srv-px1').tasks.$get({ vmid: 1401 })) as Row[]).toEqual([]);
    await waitTask(sim, api, upid);
    expect(((await api.nodes.$('srv-px1').tasks.$get({ vmid: 1401 })) as Row[]).map((t) => t.status)).toEqual(
      ['OK'],
    );
    expect((await api.nodes.$('srv-px1').tasks.$get({ vmid: 1401, source: 'active' })) as Row[]).toEqual([]);
  });

  it('a container created HA-managed is listed as an HA resource and started through HA', async () => {
    // ha-managed is new in PVE 9 (the client's typings predate it), so this create goes out raw.
    const created = await raw(sim, 'POST', '/nodes/srv-px2/lxc', {
      form: {
        vmid: 1470,
        ostemplate: 'local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst',
        rootfs: 'local-lvm:4',
        'ha-managed': 1,
      },
    });
    const upid = created.json?.data as string;
    await waitTask(sim, api, upid);
    await sim.advance(5);
    expect(await api.cluster.ha.resources.$get()).toEqual([
      expect.objectContaining({ sid: 'ct:1470', state: 'started' }),
    ]);
    const cur = await api.nodes.$('srv-px2').lxc.$(1470).status.current.$get();
    expect(cur).toMatchObject({ status: 'running', ha: { managed: 1, state: 'started' } });
    const types = ((await api.nodes.$('srv-px2').tasks.$get({ vmid: 1470, source: 'all' })) as Row[]).map(
      (t) => t.type,
    );
    expect(types).toEqual(['hastart', 'vzcreate']);
  });

  it('cluster resources reflect a write at once, though the answer is cached between changes', async () => {
    const find = async (): Promise<Row | undefined> =>
      ((await api.cluster.resources.$get({ type: 'vm' })) as Row[]).find((r) => r.vmid === 1401);
    expect((await find())?.tags).toBe('autopilot;web');
    await api.nodes.$('srv-px1').lxc.$(1401).config.$put({ tags: 'changed' });
    expect((await find())?.tags).toBe('changed');
    const upid = await api.nodes.$('srv-px1').lxc.$(1401).migrate.$post({ target: 'srv-px2', restart: true });
    await sim.advance(1);
    expect((await find())?.lock).toBe('migrate');
    await waitTask(sim, api, upid);
    expect(await find()).toMatchObject({ node: 'srv-px2', status: 'running' });
  });

  it('rrd history fills at one point per minute for the hour frame', async () => {
    await sim.advance(600);
    const rrd = (await api.nodes
      .$('srv-px2')
      .lxc.$(1402)
      .rrddata.$get({ timeframe: 'hour', cf: 'MAX' })) as Row[];
    const filled = rrd.filter((p) => p.cpu !== undefined);
    expect(filled.length).toBeGreaterThanOrEqual(10);
    expect(filled.length).toBeLessThanOrEqual(12);
    expect(rrd[1]!.time as number).toBe((rrd[0]!.time as number) + 60);
    // db-1402's steady workload holds about 350 MiB.
    expect(Number(filled.at(-1)!.mem)).toBeGreaterThan(300 * 1024 ** 2);
  });
});

describe('rrd history as PVE 9 lays it out', () => {
  let sim: RunningSim;
  let api: Proxmox.Api;
  beforeAll(async () => {
    sim = await startManualLab();
    api = tokenApi(sim);
    await sim.advance(2 * 3600 + 30);
  });
  afterAll(async () => sim.stop());

  it('answers each time frame with PVE 9 points and step, ending at the current step', async () => {
    const now = (await admin<{ now: number }>(sim, 'GET', '/clock')).now / 1000;
    const frames = {
      hour: [60, 60],
      day: [1440, 60],
      week: [336, 1800],
      month: [1440, 1800],
      year: [1440, 21600],
      decade: [570, 604800],
    } as const;
    for (const [timeframe, [points, step]] of Object.entries(frames)) {
      const rrd = (await api.nodes.$('srv-px1').rrddata.$get({ timeframe: timeframe as 'hour' })) as Row[];
      expect([timeframe, rrd.length]).toEqual([timeframe, points]);
      expect([timeframe, Number(rrd[1]!.time) - Number(rrd[0]!.time)]).toEqual([timeframe, step]);
      expect([timeframe, rrd.at(-1)!.time]).toEqual([timeframe, Math.floor(now / step) * step]);
    }
  });

  it('keeps a full day at one-minute resolution, and shows only finished intervals', async () => {
    const day = (await api.nodes.$('srv-px1').lxc.$(1400).rrddata.$get({ timeframe: 'day' })) as Row[];
    // Two hours and 30 s into the scenario: 120 finished minutes, the running one not yet shown.
    expect(day.filter((p) => p.cpu !== undefined).length).toBe(120);
    expect(day.at(-1)!.cpu).toBeDefined();
    const week = (await api.nodes.$('srv-px1').lxc.$(1400).rrddata.$get({ timeframe: 'week' })) as Row[];
    expect(week.filter((p) => p.cpu !== undefined).length).toBe(4);
  });

  it('has no decade frame for guests, as in the 9.1 schema', async () => {
    const res = await raw(sim, 'GET', '/nodes/srv-px1/lxc/1400/rrddata?timeframe=decade');
    expect(res.status).toBe(400);
    expect(res.json?.errors?.timeframe).toMatch(/value 'decade' does not have a value in the enumeration/);
  });
});

describe('with a realtime clock', () => {
  it('runs simulated time at the speed factor, so tasks finish without advancing by hand', async () => {
    const sim = await startSimulator({
      scenario: 'lab-2node',
      port: 0,
      clock: { mode: 'realtime', speed: 50 },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    try {
      const api = tokenApi(sim);
      const c0 = await admin<{ now: number }>(sim, 'GET', '/clock');
      const upid = await api.nodes.$('srv-px1').lxc.$(1400).status.stop.$post();
      const t0 = performance.now();
      let st: Row = {};
      while (performance.now() - t0 < 5000) {
        st = (await api.nodes.$('srv-px1').tasks.$(upid).status.$get()) as Row;
        if (st.status === 'stopped') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(st.exitstatus).toBe('OK');
      expect(performance.now() - t0).toBeLessThan(2000);
      // Clock readings 400 ms of wall time apart differ by about speed × 400 ms.
      const w0 = performance.now();
      const a = await admin<{ now: number }>(sim, 'GET', '/clock');
      await new Promise((r) => setTimeout(r, 400));
      const b = await admin<{ now: number }>(sim, 'GET', '/clock');
      const ratio = (b.now - a.now) / (performance.now() - w0);
      expect(ratio).toBeGreaterThan(40);
      expect(ratio).toBeLessThan(55);
      expect(a.now).toBeGreaterThan(c0.now);
    } finally {
      await sim.stop();
    }
  });
});

describe('transport options', () => {
  it('a client pinning the certificate fingerprint connects; a wrong pin is refused', async () => {
    const sim = await startManualLab();
    try {
      expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const pinned = tokenApi(sim, pinnedFetch(sim.fingerprint));
      expect((await pinned.nodes.$get()).length).toBe(2);
      const wrong = tokenApi(
        sim,
        pinnedFetch(sim.fingerprint.replace(/^../, sim.fingerprint.startsWith('00') ? '11' : '00')),
      );
      await expect(wrong.nodes.$get()).rejects.toThrow();
    } finally {
      await sim.stop();
    }
  });

  it('serves plain HTTP when asked', async () => {
    const sim = await startSimulator({
      scenario: 'lab-2node',
      port: 0,
      http: true,
      clock: { mode: 'manual' },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    try {
      expect(sim.url).toMatch(/^http:\/\//);
      const res = await fetch(`${sim.url}/api2/json/version`, {
        headers: { Authorization: `PVEAPIToken=${sim.token.id}=${sim.token.secret}` },
      });
      expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
      expect(((await res.json()) as { data: { release: string } }).data.release).toBe('9.1');
    } finally {
      await sim.stop();
    }
  });
});
