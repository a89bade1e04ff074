// For every implemented method, pve-sim's answer must match the official return schema (fields,
// types, optional or not): PVE 9.1 strictly (no undocumented fields beyond the ones PVE really
// sends), PVE 8.4 for required fields and types. The schema excerpt lives in fixtures/.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCHEMA } from '../../simulator/http/server.js';
import type { RunningSim } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { TEST_DATA_DIR, admin, raw, startManualLab } from './support/client.js';
import { checkReturn, type ReturnSchema } from './support/return-schema.js';

const RETURNS = JSON.parse(
  readFileSync(new URL('./fixtures/pve-returns.json', import.meta.url), 'utf8'),
) as Record<'9.1' | '8.4', Record<string, ReturnSchema>>;

/** Fields real PVE sends that its schema does not describe (read from PVE's handlers). */
const EXTRAS: Record<string, Record<string, string[]>> = {
  'GET /nodes': { '$[]': ['id', 'type', 'disk', 'maxdisk'] },
  'GET /cluster/tasks': {
    '$[]': ['node', 'pid', 'pstart', 'starttime', 'type', 'id', 'user', 'tokenid', 'status', 'endtime'],
  },
  'GET /nodes/{node}/tasks': { '$[]': ['tokenid'] },
  'GET /nodes/{node}/tasks/{upid}/status': { $: ['tokenid'] },
  'GET /nodes/{node}/lxc': { '$[]': ['type', 'swap'] },
  'GET /nodes/{node}/lxc/{vmid}/status/current': { $: ['type', 'swap'] },
  'GET /nodes/{node}/status': {
    $: ['kversion', 'idle', 'wait', 'ksm', 'swap', 'uptime'],
    '$.cpuinfo': ['mhz', 'hvm', 'flags', 'user_hz'],
  },
  'GET /nodes/{node}/lxc/{vmid}/snapshot': { '$[]': ['running'] },
  'GET /nodes/{node}/lxc/{vmid}/config': { $: ['parent'] },
  'POST /access/ticket': { $: ['cap'] },
  'GET /cluster/ha/resources': { '$[]': ['type', 'state', 'max_relocate', 'max_restart'] },
  'GET /nodes/{node}/storage/{storage}/content': { '$[]': ['content'] },
  'GET /cluster/ha/rules': {
    '$[]': ['type', 'resources', 'nodes', 'strict', 'affinity', 'comment', 'order', 'digest'],
  },
  'GET /storage': {
    '$[]': ['type', 'content', 'digest', 'shared', 'nodes', 'path', 'vgname', 'thinpool', 'pool'],
  },
  'GET /nodes/{node}/qemu': { '$[]': ['disk'] },
  'GET /nodes/{node}/qemu/{vmid}/status/current': { $: ['disk'] },
  'GET /nodes/{node}/qemu/{vmid}/snapshot': { '$[]': ['digest', 'running'] },
  'GET /pools/{poolid}': {
    '$.members[]': [
      'name',
      'status',
      'template',
      'cpu',
      'maxcpu',
      'mem',
      'maxmem',
      'disk',
      'maxdisk',
      'netin',
      'netout',
      'diskread',
      'diskwrite',
      'uptime',
      'tags',
      'pool',
      'lock',
      'hastate',
      'content',
      'plugintype',
      'shared',
    ],
  },
};

/** Where pve-sim follows the wire rather than the schema: nextid is a JSON string on real PVE. */
const WIRE_OVERRIDES: Record<string, ReturnSchema> = { 'GET /cluster/nextid': { type: 'string' } };

let sim: RunningSim;
/** zones-6node, for what lab-2node lacks: QEMU VMs and an HA rule. */
let zones: RunningSim;
const answers = new Map<string, unknown>();

async function call(
  key: string,
  path: string,
  form?: Record<string, string | number>,
  on: RunningSim = sim,
): Promise<void> {
  const method = key.split(' ')[0]!;
  const res =
    method === 'POST' && path === '/access/ticket'
      ? await raw(on, method, path, { form, noAuth: true })
      : await raw(on, method, path, { form });
  if (res.status !== 200) throw new Error(`${key} (${path}) answered ${res.status} ${res.reason}`);
  answers.set(key, res.json?.data);
}

beforeAll(async () => {
  sim = await startManualLab();
  await sim.advance(300);
  const CT = '/nodes/srv-px1/lxc/1400';
  await call('POST /access/ticket', '/access/ticket', { username: 'root@pam', password: sim.user.password });
  await call('GET /version', '/version');
  await call('GET /access/permissions', '/access/permissions');
  await call('GET /access/domains', '/access/domains');
  await call('GET /access/users', '/access/users?full=1');
  await call('GET /access/acl', '/access/acl');
  await call('GET /access/roles', '/access/roles');
  await call('GET /storage', '/storage');
  await call('GET /cluster/options', '/cluster/options');
  await call('GET /cluster/backup', '/cluster/backup');
  await call('GET /cluster/replication', '/cluster/replication');
  await call('GET /nodes/{node}/version', '/nodes/srv-px1/version');
  await call('GET /nodes/{node}/time', '/nodes/srv-px1/time');
  await call('GET /nodes/{node}/dns', '/nodes/srv-px1/dns');
  await call('GET /nodes/{node}/netstat', '/nodes/srv-px1/netstat');
  await call('GET /nodes/{node}/subscription', '/nodes/srv-px1/subscription');
  await call('GET /nodes/{node}/lxc/{vmid}/interfaces', '/nodes/srv-px1/lxc/1400/interfaces');
  await call('GET /nodes/{node}/storage/{storage}/status', '/nodes/srv-px1/storage/local-lvm/status');
  await call('GET /nodes/{node}/lxc/{vmid}/pending', '/nodes/srv-px1/lxc/1400/pending');
  zones = await startSimulator({
    scenario: 'zones-6node',
    port: 0,
    clock: { mode: 'manual' },
    dataDir: TEST_DATA_DIR,
    quiet: true,
  });
  await zones.advance(300);
  const VM = '/nodes/pve-c1/qemu/401';
  await call('GET /cluster/ha/rules', '/cluster/ha/rules', undefined, zones);
  await call('GET /nodes/{node}/qemu', '/nodes/pve-c1/qemu', undefined, zones);
  await call('GET /nodes/{node}/qemu/{vmid}/status/current', `${VM}/status/current`, undefined, zones);
  await call('GET /nodes/{node}/qemu/{vmid}/config', `${VM}/config`, undefined, zones);
  await call('GET /nodes/{node}/qemu/{vmid}/pending', `${VM}/pending`, undefined, zones);
  await call('GET /nodes/{node}/qemu/{vmid}/rrddata', `${VM}/rrddata?timeframe=hour`, undefined, zones);
  await call('GET /nodes/{node}/qemu/{vmid}/snapshot', `${VM}/snapshot`, undefined, zones);
  await call('GET /cluster/status', '/cluster/status');
  await call('GET /cluster/resources', '/cluster/resources');
  await call('GET /cluster/nextid', '/cluster/nextid');
  await call('GET /nodes', '/nodes');
  await call('GET /nodes/{node}/status', '/nodes/srv-px1/status');
  await call('GET /nodes/{node}/rrddata', '/nodes/srv-px1/rrddata?timeframe=hour');
  await call('GET /nodes/{node}/storage', '/nodes/srv-px1/storage');
  await call(
    'GET /nodes/{node}/storage/{storage}/content',
    '/nodes/srv-px1/storage/local/content?content=vztmpl',
  );
  await call('GET /nodes/{node}/lxc', '/nodes/srv-px1/lxc');
  await call('GET /nodes/{node}/lxc/{vmid}/config', `${CT}/config`);
  await call('GET /nodes/{node}/lxc/{vmid}/status/current', `${CT}/status/current`);
  await call('GET /nodes/{node}/lxc/{vmid}/rrddata', `${CT}/rrddata?timeframe=hour`);
  await call('PUT /nodes/{node}/lxc/{vmid}/config', `${CT}/config`, { cores: 3 });
  await call('POST /nodes/{node}/lxc/{vmid}/snapshot', `${CT}/snapshot`, { snapname: 'one' });
  await sim.advance(5);
  await call('GET /nodes/{node}/lxc/{vmid}/snapshot', `${CT}/snapshot`);
  await call('POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback', `${CT}/snapshot/one/rollback`, {
    start: 1,
  });
  await sim.advance(10);
  await call('DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}', `${CT}/snapshot/one`);
  await sim.advance(5);
  await call('POST /nodes/{node}/lxc/{vmid}/status/reboot', `${CT}/status/reboot`);
  await sim.advance(10);
  await call('POST /nodes/{node}/lxc/{vmid}/status/shutdown', `${CT}/status/shutdown`);
  await sim.advance(10);
  await call('POST /nodes/{node}/lxc/{vmid}/status/start', `${CT}/status/start`);
  await sim.advance(5);
  await call('POST /nodes/{node}/lxc/{vmid}/status/stop', `${CT}/status/stop`);
  await sim.advance(5);
  await call('POST /nodes/{node}/lxc/{vmid}/migrate', `${CT}/migrate`, { target: 'srv-px2' });
  await call('GET /nodes/{node}/tasks', '/nodes/srv-px1/tasks?source=all');
  const upid = answers.get('POST /nodes/{node}/lxc/{vmid}/migrate') as string;
  await call(
    'GET /nodes/{node}/tasks/{upid}/status',
    `/nodes/srv-px1/tasks/${encodeURIComponent(upid)}/status`,
  );
  await call('GET /nodes/{node}/tasks/{upid}/log', `/nodes/srv-px1/tasks/${encodeURIComponent(upid)}/log`);
  await call('GET /cluster/tasks', '/cluster/tasks');
  await call('POST /nodes/{node}/lxc', '/nodes/srv-px2/lxc', {
    vmid: 1480,
    ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
    rootfs: 'local-lvm:4',
    'ha-managed': 1,
  });
  await sim.advance(10);
  await call('GET /cluster/ha/resources', '/cluster/ha/resources');
  await call('GET /cluster/ha/resources/{sid}', '/cluster/ha/resources/ct:1480');
  await call('GET /cluster/ha/status/current', '/cluster/ha/status/current');
  await call('DELETE /nodes/{node}/lxc/{vmid}', '/nodes/srv-px2/lxc/1403');
  await call('POST /pools', '/pools', { poolid: 'conf', comment: 'c' });
  await call('PUT /pools', '/pools', { poolid: 'conf', vms: '101', 'allow-move': 1 });
  await call('PUT /pools/{poolid}', '/pools/conf', { storage: 'local' });
  await call('GET /pools', '/pools');
  await call('GET /pools/{poolid}', '/pools/conf');
  await call('PUT /pools', '/pools', { poolid: 'conf', vms: '101', storage: 'local', delete: 1 });
  await call('DELETE /pools', '/pools?poolid=conf');
  await call('POST /pools', '/pools', { poolid: 'conf2' });
  await call('DELETE /pools/{poolid}', '/pools/conf2');
  await admin(sim, 'GET', '/state');
});
afterAll(async () => {
  await sim.stop();
  await zones?.stop();
});

describe('answers match the official return schema', () => {
  it('covers every implemented method', () => {
    expect([...answers.keys()].sort()).toEqual(Object.keys(API_SCHEMA).sort());
  });

  it.each(Object.keys(API_SCHEMA))('%s matches the PVE 9.1 schema, with no undocumented fields', (key) => {
    const schema = WIRE_OVERRIDES[key] ?? RETURNS['9.1'][key]!;
    expect(checkReturn(answers.get(key), schema, { strict: true, extras: EXTRAS[key] })).toEqual([]);
  });

  it.each(Object.keys(RETURNS['8.4']))('%s carries what PVE 8.4 clients require', (key) => {
    const schema = WIRE_OVERRIDES[key] ?? RETURNS['8.4'][key]!;
    expect(checkReturn(answers.get(key), schema, { strict: false })).toEqual([]);
  });

  it('GET /cluster/resources with QEMU VMs (zones-6node) matches the PVE 9.1 schema too', async () => {
    const res = await raw(zones, 'GET', '/cluster/resources');
    const data = res.json?.data as Array<{ type: string }>;
    expect(data.filter((r) => r.type === 'qemu')).toHaveLength(3);
    expect(checkReturn(data, RETURNS['9.1']['GET /cluster/resources']!, { strict: true })).toEqual([]);
  });

  it('returns UPIDs for every task-starting method', () => {
    for (const [key, value] of answers)
      if (key.startsWith('POST /nodes') || key.startsWith('DELETE /nodes'))
        expect(value, key).toMatch(
          /^UPID:[\w-]+:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:\w+:\d+:root@pam!autopilot:$/,
        );
  });

  it('the checker catches a wrong type, a missing field and an undocumented field', () => {
    const schema = RETURNS['9.1']['GET /nodes/{node}/tasks/{upid}/status']!;
    const { tokenid: _tokenid, ...good } = answers.get('GET /nodes/{node}/tasks/{upid}/status') as Record<
      string,
      unknown
    >;
    expect(checkReturn({ ...good, pid: 'x' }, schema, { strict: true })).toEqual([
      '$.pid: expected integer, got "x"',
    ]);
    const { upid: _upid, ...missing } = good;
    expect(checkReturn(missing, schema, { strict: true })).toEqual(['$.upid: required property is missing']);
    expect(checkReturn({ ...good, extra: 1 }, schema, { strict: true })).toEqual([
      '$.extra: not in the schema',
    ]);
  });
});
