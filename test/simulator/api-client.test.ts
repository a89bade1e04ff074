// Drives every implemented endpoint with the unmodified proxmox-api npm client over HTTPS with
// certificate verification on, once with an API token and once with a ticket login.
import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSim } from '../../simulator/index.js';
import { taskLog, ticketApi, tokenApi, waitTask, startManualLab } from './support/client.js';

type Row = Record<string, unknown>;

describe.each(['token', 'ticket'] as const)('proxmox-api client with %s auth over verified HTTPS', (mode) => {
  let sim: RunningSim;
  let api: Proxmox.Api;
  const vmid = mode === 'token' ? 1450 : 1451;

  beforeAll(async () => {
    sim = await startManualLab();
    api = mode === 'token' ? tokenApi(sim) : ticketApi(sim);
  });
  afterAll(async () => sim.stop());

  it('reads version, cluster status, resources with a type filter and the next free id', async () => {
    const version = await api.version.$get();
    expect(version.release).toBe('9.1');
    const status = (await api.cluster.status.$get()) as Row[];
    expect(status.find((s) => s.type === 'cluster')).toMatchObject({
      name: 'insa-lab',
      nodes: 2,
      quorate: 1,
    });
    const all = (await api.cluster.resources.$get()) as Row[];
    expect(new Set(all.map((r) => r.type))).toEqual(new Set(['lxc', 'node', 'storage', 'pool', 'sdn']));
    const vms = (await api.cluster.resources.$get({ type: 'vm' })) as Row[];
    expect(vms.every((r) => r.type === 'lxc')).toBe(true);
    expect(vms.find((r) => r.vmid === 1400)).toMatchObject({
      id: 'lxc/1400',
      node: 'srv-px1',
      status: 'running',
      pool: 'autopilot',
    });
    const nodes = (await api.cluster.resources.$get({ type: 'node' })) as Row[];
    expect(nodes.map((n) => n.node)).toEqual(['srv-px1', 'srv-px2']);
    expect(await api.cluster.nextid.$get()).toBe('102');
  });

  it('reads the node index, node status and node rrd history', async () => {
    const nodes = await api.nodes.$get();
    expect(nodes.map((n) => n.node)).toEqual(['srv-px1', 'srv-px2']);
    expect(nodes[0]?.ssl_fingerprint).toBe(sim.fingerprint);
    const st = await api.nodes.$('srv-px1').status.$get();
    expect(st.cpuinfo.cpus).toBe(16);
    expect(st.memory.total).toBe(32 * 1024 ** 3);
    expect(st.memory.used).toBeGreaterThan(0);
    await sim.advance(180);
    const rrd = (await api.nodes.$('srv-px1').rrddata.$get({ timeframe: 'hour' })) as Row[];
    expect(rrd).toHaveLength(60);
    expect(rrd.filter((p) => typeof p.cpu === 'number').length).toBeGreaterThanOrEqual(3);
  });

  it('lists storages and finds the Debian template in the vztmpl content', async () => {
    const storages = (await api.nodes.$('srv-px1').storage.$get()) as Row[];
    expect(storages.map((s) => s.storage)).toEqual(['local', 'local-lvm']);
    const content = (await api.nodes
      .$('srv-px1')
      .storage.$('local')
      .content.$get({ content: 'vztmpl' })) as Row[];
    expect(content.map((c) => c.volid)).toContain('local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst');
  });

  it('creates a container as a vzcreate task that holds the create lock until done', async () => {
    const upid = await api.nodes.$('srv-px1').lxc.$post({
      vmid,
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      hostname: `ct-${vmid}`,
      memory: 1024,
      swap: 256,
      cores: 2,
      rootfs: 'local-lvm:8',
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      pool: 'autopilot',
      tags: 'autopilot;test',
      unprivileged: true,
    });
    expect(upid).toMatch(
      new RegExp(
        `^UPID:srv-px1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:${vmid}:root@pam(!autopilot)?:$`,
      ),
    );
    const cfg = await api.nodes.$('srv-px1').lxc.$(vmid).config.$get();
    expect(cfg.lock).toBe('create');
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('OK');
    const after = await api.nodes.$('srv-px1').lxc.$(vmid).config.$get();
    expect(after.lock).toBeUndefined();
    expect(after).toMatchObject({ hostname: `ct-${vmid}`, memory: 1024, cores: 2, tags: 'autopilot;test' });
    const list = (await api.nodes.$('srv-px1').lxc.$get()) as Row[];
    expect(list.find((c) => c.vmid === vmid)).toMatchObject({ status: 'stopped', maxmem: 1024 * 1024 ** 2 });
  });

  it('updates the config synchronously when the digest matches', async () => {
    const ct = api.nodes.$('srv-px1').lxc.$(vmid);
    const { digest } = await ct.config.$get();
    expect(digest).toMatch(/^[0-9a-f]{40}$/);
    expect(
      await ct.config.$put({ cores: 3, memory: 1536, digest, description: 'resized by test' }),
    ).toBeNull();
    const cfg = await ct.config.$get();
    expect(cfg).toMatchObject({ cores: 3, memory: 1536, description: 'resized by test' });
    expect(cfg.digest).not.toBe(digest);
  });

  it('starts, reboots, shuts down and stops a container, each run as a task in the node task list', async () => {
    const ct = api.nodes.$('srv-px1').lxc.$(vmid);
    expect((await waitTask(sim, api, await ct.status.start.$post())).exitstatus).toBe('OK');
    const cur = await ct.status.current.$get();
    expect(cur).toMatchObject({ status: 'running', vmid, ha: { managed: 0 } });
    expect(cur.uptime).toBeGreaterThanOrEqual(0);
    expect((await waitTask(sim, api, await ct.status.reboot.$post())).exitstatus).toBe('OK');
    expect((await waitTask(sim, api, await ct.status.shutdown.$post({ timeout: 30 }))).exitstatus).toBe('OK');
    expect((await ct.status.current.$get()).status).toBe('stopped');
    await waitTask(sim, api, await ct.status.start.$post());
    expect((await waitTask(sim, api, await ct.status.stop.$post())).exitstatus).toBe('OK');
    const tasks = (await api.nodes.$('srv-px1').tasks.$get({ vmid, source: 'all', limit: 100 })) as Row[];
    expect(tasks.map((t) => t.type)).toEqual([
      'vzstop',
      'vzstart',
      'vzshutdown',
      'vzreboot',
      'vzstart',
      'vzcreate',
    ]);
    expect(tasks.every((t) => t.status === 'OK')).toBe(true);
  });

  it('migrates a stopped container and records one vzmigrate task on the source node', async () => {
    const upid = await api.nodes.$('srv-px1').lxc.$(vmid).migrate.$post({ target: 'srv-px2' });
    const st = await waitTask(sim, api, upid);
    expect(st.exitstatus).toBe('OK');
    expect((await taskLog(api, upid)).some((l) => l.includes('migration finished successfully'))).toBe(true);
    const res = (await api.cluster.resources.$get({ type: 'vm' })) as Row[];
    expect(res.find((r) => r.vmid === vmid)?.node).toBe('srv-px2');
    const migrations = (await api.nodes
      .$('srv-px1')
      .tasks.$get({ vmid, typefilter: 'vzmigrate', source: 'all' })) as Row[];
    expect(migrations).toHaveLength(1);
  });

  it('creates, lists, rolls back to and deletes a snapshot', async () => {
    const ct = api.nodes.$('srv-px2').lxc.$(vmid);
    expect(
      (await waitTask(sim, api, await ct.snapshot.$post({ snapname: 'before', description: 'baseline' })))
        .exitstatus,
    ).toBe('OK');
    const snaps = (await ct.snapshot.$get()) as Row[];
    expect(snaps.map((s) => s.name)).toEqual(['before', 'current']);
    expect(snaps[1]).toMatchObject({ description: 'You are here!', parent: 'before' });
    await ct.config.$put({ cores: 1 });
    expect((await waitTask(sim, api, await ct.snapshot.$('before').rollback.$post())).exitstatus).toBe('OK');
    expect((await ct.config.$get()).cores).toBe(3);
    expect((await waitTask(sim, api, await ct.snapshot.$('before').$delete())).exitstatus).toBe('OK');
    expect(((await ct.snapshot.$get()) as Row[]).map((s) => s.name)).toEqual(['current']);
  });

  it('manages pools: create, add a member, read it, remove it, delete the pool (both paths)', async () => {
    const pool = `p${mode}`;
    await api.pools.$post({ poolid: pool, comment: 'test pool' });
    await api.pools.$put({ poolid: pool, vms: String(vmid), 'allow-move': true });
    const listed = (await api.pools.$get()) as Row[];
    expect(listed.find((p) => p.poolid === pool)).toMatchObject({ comment: 'test pool' });
    const read = await api.pools.$(pool).$get();
    expect((read.members as Row[]).map((m) => m.id)).toEqual([`lxc/${vmid}`]);
    await api.pools.$(pool).$put({ vms: String(vmid), delete: true });
    expect(((await api.pools.$get({ poolid: pool })) as Row[])[0]?.members).toEqual([]);
    await api.pools.$delete({ poolid: pool });
    expect(((await api.pools.$get()) as Row[]).some((p) => p.poolid === pool)).toBe(false);
    await api.pools.$post({ poolid: `${pool}-old` });
    await api.pools.$(`${pool}-old`).$delete(); // the older per-pool path
    expect(((await api.pools.$get()) as Row[]).some((p) => p.poolid === `${pool}-old`)).toBe(false);
  });

  it('reads container rrd history and the HA resource list', async () => {
    await sim.advance(120);
    const rrd = (await api.nodes
      .$('srv-px1')
      .lxc.$(1400)
      .rrddata.$get({ timeframe: 'hour', cf: 'AVERAGE' })) as Row[];
    expect(rrd).toHaveLength(60);
    const last = rrd.filter((p) => p.mem !== undefined).at(-1);
    expect(last).toMatchObject({ maxmem: 512 * 1024 ** 2, maxcpu: 2 });
    expect(await api.cluster.ha.resources.$get()).toEqual([]);
  });

  it('destroys a stopped container', async () => {
    const upid = await api.nodes.$('srv-px2').lxc.$(vmid).$delete({ purge: true });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('OK');
    const res = (await api.cluster.resources.$get({ type: 'vm' })) as Row[];
    expect(res.some((r) => r.vmid === vmid)).toBe(false);
  });
});
