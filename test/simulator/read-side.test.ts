// The read side third-party tools call: effective permissions per caller (privsep tokens cut down to
// their user), QEMU VMs beside containers (listed, readable, counted in node load, no tasks), the HA
// manager's status and rules, and the per-node read methods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../simulator/index.js';
import { zones6node } from '../../simulator/scenarios/zones-6node.js';
import { TEST_DATA_DIR, raw, startManualLab } from './support/client.js';

type Row = Record<string, unknown>;
const GiB = 1024 ** 3;

/** GET as one of the scenario's tokens (by id). */
async function getAs(
  sim: RunningSim,
  tokenId: string,
  path: string,
): Promise<{ status: number; data: unknown }> {
  const token = zones6node(1).tokens.find((t) => t.id === tokenId)!;
  const res = await raw(sim, 'GET', path, {
    headers: { Authorization: `PVEAPIToken=${token.id}=${token.secret}` },
  });
  return { status: res.status, data: res.json?.data };
}

async function get<T = unknown>(sim: RunningSim, path: string): Promise<T> {
  const res = await raw(sim, 'GET', path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.reason}`);
  return res.json?.data as T;
}

const AUDITOR_PRIVS = [
  'Datastore.Audit',
  'Mapping.Audit',
  'Pool.Audit',
  'SDN.Audit',
  'Sys.Audit',
  'VM.Audit',
  'VM.GuestAgent.Audit',
];

describe('GET /access/permissions', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startManualLab();
  });
  afterAll(async () => sim.stop());

  it('a read-only token sees exactly its audit privileges, on every top path and pool', async () => {
    const { status, data } = await getAs(sim, 'root@pam!readonly', '/access/permissions');
    expect(status).toBe(200);
    const perms = data as Record<string, Record<string, number>>;
    expect(Object.keys(perms)).toEqual(expect.arrayContaining(['/', '/vms', '/storage', '/pool/autopilot']));
    for (const privs of Object.values(perms)) expect(Object.keys(privs).sort()).toEqual(AUDITOR_PRIVS);
    expect(perms['/']!['VM.PowerMgmt']).toBeUndefined();
  });

  it("a privilege-separated token's Administrator role is cut down to its user's privileges", async () => {
    const { data } = await getAs(sim, 'auditor@pve!monitor', '/access/permissions?path=/vms');
    expect(Object.keys(data as object)).toEqual(['/vms']);
    expect(Object.keys((data as Record<string, object>)['/vms']!).sort()).toEqual(AUDITOR_PRIVS);
    // And the API enforces the same cut: the token may not stop a container.
    const token = zones6node(1).tokens.find((t) => t.id === 'auditor@pve!monitor')!;
    const stop = await raw(sim, 'POST', '/nodes/srv-px1/lxc/1400/status/stop', {
      headers: { Authorization: `PVEAPIToken=${token.id}=${token.secret}` },
    });
    expect([stop.status, stop.reason]).toEqual([403, 'Permission check failed (/vms/1400, VM.PowerMgmt)']);
  });

  it('the full-access token holds every privilege, VM.Allocate and Sys.Modify included', async () => {
    const perms = await get<Record<string, Record<string, number>>>(sim, '/access/permissions?path=/');
    expect(perms['/']).toMatchObject({ 'VM.Allocate': 1, 'Sys.Modify': 1, 'VM.PowerMgmt': 1 });
    expect(Object.keys(perms['/']!).length).toBeGreaterThan(40);
  });

  it('with userid, an auditor reads another token; an unknown one has no permissions', async () => {
    const { data } = await getAs(
      sim,
      'root@pam!readonly',
      '/access/permissions?userid=root@pam!autopilot&path=/',
    );
    expect((data as Record<string, Row>)['/']).toMatchObject({ 'VM.Allocate': 1 });
    expect(await get(sim, '/access/permissions?userid=nobody@pve')).toEqual({});
  });
});

describe('QEMU VMs and the HA manager on zones-6node', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startSimulator({
      scenario: 'zones-6node',
      port: 0,
      clock: { mode: 'manual' },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    await sim.advance(120);
  });
  afterAll(async () => sim.stop());

  it('lists VMs in /cluster/resources as type qemu and on their node', async () => {
    const vms = (await get<Row[]>(sim, '/cluster/resources?type=vm')).filter((r) => r.type === 'qemu');
    expect(vms.map((v) => [v.id, v.node, v.status])).toEqual([
      ['qemu/400', 'pve-b2', 'running'],
      ['qemu/401', 'pve-c1', 'running'],
      ['qemu/402', 'pve-a2', 'stopped'],
    ]);
    expect(vms[1]).toMatchObject({ name: 'gitlab', maxcpu: 8, maxmem: 16 * GiB, hastate: 'started' });
    const onC1 = await get<Row[]>(sim, '/nodes/pve-c1/qemu');
    expect(onC1.map((v) => v.vmid)).toEqual([401]);
    expect((await get<Row[]>(sim, '/nodes/pve-c1/lxc')).some((c) => c.vmid === 401)).toBe(false);
  });

  it("counts a running VM's memory and cpu in its node's load", async () => {
    const all = await get<Row[]>(sim, '/cluster/resources');
    const node = all.find((r) => r.id === 'node/pve-c1')!;
    const guests = all.filter((r) => r.node === 'pve-c1' && (r.type === 'lxc' || r.type === 'qemu'));
    const guestMem = guests.reduce((s, g) => s + Number(g.mem), 0);
    const vm = guests.find((g) => g.type === 'qemu')!;
    expect(Number(vm.mem)).toBeGreaterThan(10 * GiB);
    // Node memory is its guests (the VM included) plus the host's own overhead.
    const overhead = 1.5 * GiB + 0.02 * Number(node.maxmem);
    expect(Number(node.mem)).toBeCloseTo(guestMem + overhead, -3);
  });

  it('reads a VM: status with its HA state, config with a digest, pending, snapshots', async () => {
    const status = await get<Row>(sim, '/nodes/pve-c1/qemu/401/status/current');
    expect(status).toMatchObject({ vmid: 401, status: 'running', qmpstatus: 'running', cpus: 8 });
    expect(status.ha).toEqual({ managed: 1, state: 'started' });
    const config = await get<Row>(sim, '/nodes/pve-c1/qemu/401/config');
    expect(config).toMatchObject({ name: 'gitlab', cores: 8, memory: '16384', ostype: 'l26' });
    expect(String(config.scsi0)).toMatch(/^ceph-ct:vm-401-disk-0,.*size=200G$/);
    expect(config.digest).toMatch(/^[0-9a-f]{40}$/);
    const pending = await get<Row[]>(sim, '/nodes/pve-c1/qemu/401/pending');
    expect(pending.find((p) => p.key === 'name')).toEqual({ key: 'name', value: 'gitlab' });
    expect((await get<Row[]>(sim, '/nodes/pve-c1/qemu/401/snapshot')).map((s) => s.name)).toEqual([
      'current',
    ]);
  });

  it('keeps VMs and containers apart by path, and runs no VM tasks', async () => {
    const asCt = await raw(sim, 'GET', '/nodes/pve-c1/lxc/401/status/current');
    expect([asCt.status, asCt.reason]).toEqual([
      500,
      "Configuration file 'nodes/pve-c1/lxc/401.conf' does not exist",
    ]);
    const asVm = await raw(sim, 'GET', '/nodes/pve-c1/qemu/1201/status/current');
    expect([asVm.status, asVm.reason]).toEqual([
      500,
      "Configuration file 'nodes/pve-c1/qemu-server/1201.conf' does not exist",
    ]);
    const start = await raw(sim, 'POST', '/nodes/pve-a2/qemu/402/status/start');
    expect([start.status, start.reason]).toEqual([
      501,
      "Method 'POST /nodes/pve-a2/qemu/402/status/start' not implemented",
    ]);
    const create = await raw(sim, 'POST', '/nodes/pve-a1/lxc', {
      form: { vmid: 400, ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' },
    });
    expect([create.status, create.reason]).toEqual([500, "VM 400 already exists on node 'pve-b2'"]);
  });

  it("serves any guest's rrd at the qemu path, as PVE reads one rrd file per vmid", async () => {
    const ct = await get<Row[]>(sim, '/nodes/pve-c1/qemu/1201/rrddata?timeframe=hour');
    expect(ct.filter((p) => p.cpu !== undefined).length).toBeGreaterThan(0);
    const vm = await get<Row[]>(sim, '/nodes/pve-c1/qemu/401/rrddata?timeframe=hour');
    expect(vm.some((p) => Number(p.mem) > 10 * GiB)).toBe(true);
  });

  it('shows the HA manager: quorum, master, an lrm per node, a service for the HA VM', async () => {
    const status = await get<Row[]>(sim, '/cluster/ha/status/current');
    expect(status.map((s) => s.id)).toEqual([
      'quorum',
      'master',
      ...['a1', 'a2', 'b1', 'b2', 'c1', 'c2'].map((n) => `lrm:pve-${n}`),
      'service:vm:401',
    ]);
    expect(status[0]).toMatchObject({ type: 'quorum', status: 'OK', quorate: 1 });
    expect(status.find((s) => s.id === 'lrm:pve-c1')!.status).toMatch(
      /^pve-c1 \(active, \w{3} \w{3} [ \d]\d /,
    );
    expect(status.find((s) => s.id === 'lrm:pve-a1')!.status).toMatch(/^pve-a1 \(idle, /);
    expect(status.at(-1)).toMatchObject({
      sid: 'vm:401',
      node: 'pve-c1',
      state: 'started',
      request_state: 'started',
    });
  });

  it('lists the HA rules PVE 9 style, filtered by type or resource', async () => {
    const rules = await get<Row[]>(sim, '/cluster/ha/rules');
    expect(rules).toEqual([
      expect.objectContaining({
        rule: 'gitlab-in-zone-c',
        type: 'node-affinity',
        resources: 'vm:401',
        nodes: 'pve-c1:2,pve-c2:1',
        strict: 0,
        order: 1,
      }),
    ]);
    expect(await get(sim, '/cluster/ha/rules?type=resource-affinity')).toEqual([]);
    expect(await get(sim, '/cluster/ha/rules?resource=vm:400')).toEqual([]);
  });

  it('reads one HA resource by sid or bare vmid, and refuses a guest HA does not manage', async () => {
    expect(await get(sim, '/cluster/ha/resources/vm:401')).toMatchObject({
      sid: 'vm:401',
      type: 'vm',
      state: 'started',
    });
    expect(await get(sim, '/cluster/ha/resources/401')).toMatchObject({ sid: 'vm:401' });
    const wrongType = await raw(sim, 'GET', '/cluster/ha/resources/ct:401');
    expect([wrongType.status, wrongType.reason]).toEqual([500, "no such resource 'ct:401'"]);
    const unmanaged = await raw(sim, 'GET', '/cluster/ha/resources/vm:400');
    expect([unmanaged.status, unmanaged.reason]).toEqual([500, "no such resource 'vm:400'"]);
  });

  it('netstat lists the host devices of running guests, tap for VMs and veth for CTs', async () => {
    const rows = await get<Row[]>(sim, '/nodes/pve-c1/netstat');
    expect(rows.map((r) => r.vmid)).toEqual(['401', '1201', '1202', '1203', '1204']);
    expect(rows[0]).toMatchObject({ dev: 'net0', in: expect.stringMatching(/^\d+$/) });
  });
});

describe('a cluster without HA resources or rules', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startManualLab();
  });
  afterAll(async () => sim.stop());

  it('answers the quorum entry alone and an empty rule list', async () => {
    expect(await get(sim, '/cluster/ha/status/current')).toEqual([
      { id: 'quorum', type: 'quorum', node: 'srv-px1', status: 'OK', quorate: 1 },
    ]);
    expect(await get(sim, '/cluster/ha/rules')).toEqual([]);
  });

  it('lists the ACL to the full-access token only, and the roles to anyone', async () => {
    const acl = await get<Row[]>(sim, '/access/acl');
    expect(acl).toContainEqual({
      path: '/',
      type: 'token',
      ugid: 'root@pam!readonly',
      roleid: 'PVEAuditor',
      propagate: 1,
    });
    expect(acl).toContainEqual({
      path: '/',
      type: 'user',
      ugid: 'auditor@pve',
      roleid: 'PVEAuditor',
      propagate: 1,
    });
    expect((await getAs(sim, 'root@pam!readonly', '/access/acl')).data).toEqual([]);
    const roles = (await getAs(sim, 'root@pam!readonly', '/access/roles')).data as Row[];
    expect(roles.find((r) => r.roleid === 'PVEAuditor')!.privs).toBe(AUDITOR_PRIVS.join(','));
  });

  it("reads a running CT's interfaces and refuses a stopped one's", async () => {
    const ifs = await get<Row[]>(sim, '/nodes/srv-px1/lxc/1400/interfaces');
    expect(ifs.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(ifs[1]).toMatchObject({
      hwaddr: expect.stringMatching(/^BC:24:11:/),
      inet: expect.stringMatching(/^10\./),
    });
    const stopped = await raw(sim, 'GET', '/nodes/srv-px2/lxc/1403/interfaces');
    expect([stopped.status, stopped.reason]).toEqual([500, 'CT 1403 not running']);
  });

  it('reports the node version, time and a storage status', async () => {
    expect(await get(sim, '/nodes/srv-px2/version')).toMatchObject({ release: '9.1' });
    expect(await get(sim, '/nodes/srv-px2/subscription')).toMatchObject({ status: 'notfound' });
    expect(await get(sim, '/nodes/srv-px1/time')).toEqual({
      timezone: 'UTC',
      time: 1767258000,
      localtime: 1767258000,
    });
    const st = await get<Row>(sim, '/nodes/srv-px1/storage/local-lvm/status');
    expect(st).toMatchObject({ type: 'lvmthin', active: 1, total: 800 * GiB });
    expect(Number(st.used) + Number(st.avail)).toBe(800 * GiB);
  });
});
