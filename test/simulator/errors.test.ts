// Every synchronous and in-task error of a container operation, with PVE's status code, reason
// phrase and body, plus parameter verification (400), unknown methods (501), 401 and 403.
import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningSim } from '../../simulator/index.js';
import {
  admin,
  raw,
  taskLog,
  tokenApi,
  waitTask,
  type RawResponse,
  startManualLab,
} from './support/client.js';

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

function expectPveError(res: RawResponse, status: number, message: string): void {
  expect(res.status).toBe(status);
  expect(res.reason).toBe(message);
  expect(res.contentType).toBe('application/json;charset=UTF-8');
  expect(res.text).toBe(JSON.stringify({ data: null, message: `${message}\n` }));
}

const CT = '/nodes/srv-px1/lxc/1400';

describe('synchronous errors carry the status, the reason phrase and the body PVE sends', () => {
  it('starting a running container fails with 500 already running', async () => {
    expectPveError(await raw(sim, 'POST', `${CT}/status/start`), 500, 'CT 1400 already running');
  });

  it('stopping or shutting down a stopped container fails with 500 not running', async () => {
    expectPveError(await raw(sim, 'POST', '/nodes/srv-px2/lxc/1403/status/stop'), 500, 'CT 1403 not running');
    expectPveError(
      await raw(sim, 'POST', '/nodes/srv-px2/lxc/1403/status/shutdown'),
      500,
      'CT 1403 not running',
    );
  });

  it('changing the config of a locked container fails with 500 CT is locked', async () => {
    await admin(sim, 'POST', '/containers/1400/lock', { lock: 'backup' });
    expectPveError(
      await raw(sim, 'PUT', `${CT}/config`, { form: { cores: 4 } }),
      500,
      'CT is locked (backup)',
    );
  });

  it('a running container cannot migrate without restart or online', async () => {
    expectPveError(
      await raw(sim, 'POST', `${CT}/migrate`, { form: { target: 'srv-px2' } }),
      500,
      "can't migrate running container without --online or --restart",
    );
  });

  it('migrating to the local node is a 400 parameter error on target', async () => {
    const res = await raw(sim, 'POST', `${CT}/migrate`, { form: { target: 'srv-px1', restart: 1 } });
    expect(res.status).toBe(400);
    expect(res.reason).toBe('Parameter verification failed.');
    expect(res.text).toBe(
      JSON.stringify({
        data: null,
        errors: { target: 'target is local node.' },
        message: 'Parameter verification failed.\n',
      }),
    );
  });

  it('migrating to an unknown node fails with 500 no such cluster node', async () => {
    expectPveError(
      await raw(sim, 'POST', `${CT}/migrate`, { form: { target: 'srv-px9', restart: 1 } }),
      500,
      "no such cluster node 'srv-px9'",
    );
  });

  it('a container that is not on the node in the path is a missing configuration file', async () => {
    expectPveError(
      await raw(sim, 'GET', '/nodes/srv-px1/lxc/999/status/current'),
      500,
      "Configuration file 'nodes/srv-px1/lxc/999.conf' does not exist",
    );
    expectPveError(
      await raw(sim, 'GET', '/nodes/srv-px2/lxc/1400/config'),
      500,
      "Configuration file 'nodes/srv-px2/lxc/1400.conf' does not exist",
    );
  });

  it('a config change with a stale digest fails with 500 detected modified configuration', async () => {
    const before = (await raw(sim, 'GET', `${CT}/config`)).json?.data as { digest: string };
    expect((await raw(sim, 'PUT', `${CT}/config`, { form: { cores: 3 } })).status).toBe(200);
    expectPveError(
      await raw(sim, 'PUT', `${CT}/config`, { form: { cores: 4, digest: before.digest } }),
      500,
      'detected modified configuration - file changed by other user? Try again.',
    );
  });

  it('destroying a running container fails with 500 container is running', async () => {
    expectPveError(await raw(sim, 'DELETE', CT), 500, 'unable to destroy CT 1400 - container is running');
  });

  it('creating a container with a taken id fails with already exists on its node', async () => {
    const res = await raw(sim, 'POST', '/nodes/srv-px2/lxc', {
      form: { vmid: 1400, ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' },
    });
    expectPveError(res, 500, "CT 1400 already exists on node 'srv-px1'");
  });

  it('the proxmox-api client surfaces the status and PVE message in its error', async () => {
    await expect(api.nodes.$('srv-px1').lxc.$(1400).status.start.$post()).rejects.toThrow(
      /return Error 500 CT 1400 already running: \{"data":null,"message":"CT 1400 already running\\n"\}/,
    );
  });
});

describe('in-task errors end the task with PVE exit status and log', () => {
  it('starting a locked container runs a task that fails with CT is locked', async () => {
    await waitTask(sim, api, await api.nodes.$('srv-px2').lxc.$(1403).status.start.$post()); // sanity: it can start
    await waitTask(sim, api, await api.nodes.$('srv-px2').lxc.$(1403).status.stop.$post());
    await admin(sim, 'POST', '/containers/1403/lock', { lock: 'snapshot' });
    const upid = await api.nodes.$('srv-px2').lxc.$(1403).status.start.$post();
    const st = await waitTask(sim, api, upid);
    expect(st.exitstatus).toBe('CT is locked (snapshot)');
    expect((await taskLog(api, upid)).at(-1)).toBe('TASK ERROR: CT is locked (snapshot)');
  });

  it('migrating a locked container aborts the migration task', async () => {
    await admin(sim, 'POST', '/containers/1403/lock', { lock: 'backup' });
    const upid = await api.nodes.$('srv-px2').lxc.$(1403).migrate.$post({ target: 'srv-px1' });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('migration aborted');
    const log = await taskLog(api, upid);
    expect(
      log.some((l) => /ERROR: migration aborted \(duration 00:00:\d\d\): CT is locked \(backup\)/.test(l)),
    ).toBe(true);
  });

  it('online migration is accepted, then the task fails: live migration not implemented', async () => {
    const upid = await api.nodes.$('srv-px1').lxc.$(1400).migrate.$post({ target: 'srv-px2', online: true });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('migration aborted');
    expect(
      (await taskLog(api, upid)).some((l) => l.includes('lxc live migration is currently not implemented')),
    ).toBe(true);
    expect((await api.nodes.$('srv-px1').lxc.$(1400).status.current.$get()).status).toBe('running');
  });

  it('a restart-mode migration whose copy fails restarts the container on its source', async () => {
    await admin(sim, 'POST', '/faults', {
      taskType: 'vzmigrate',
      times: 1,
      message: 'storage migration failed: io error',
    });
    const upid = await api.nodes.$('srv-px1').lxc.$(1400).migrate.$post({ target: 'srv-px2', restart: true });
    expect((await waitTask(sim, api, upid)).exitstatus).toBe('migration aborted');
    const log = await taskLog(api, upid);
    expect(log.some((l) => l.endsWith('shutdown CT 1400'))).toBe(true);
    expect(log.some((l) => l.endsWith('start container on source node'))).toBe(true);
    expect(log.some((l) => l.includes('storage migration failed: io error'))).toBe(true);
    const cur = await api.nodes.$('srv-px1').lxc.$(1400).status.current.$get();
    expect(cur.status).toBe('running');
    expect(cur.lock).toBeUndefined();
  });

  it('a shutdown that outlasts its timeout fails with container did not stop, unless forceStop', async () => {
    await admin(sim, 'PUT', '/containers/1400/workload', { profile: 'steady', shutdownSeconds: 120 });
    const ct = api.nodes.$('srv-px1').lxc.$(1400);
    const st = await waitTask(sim, api, await ct.status.shutdown.$post({ timeout: 10 }));
    expect(st.exitstatus).toBe('container did not stop');
    expect((await ct.status.current.$get()).status).toBe('running');
    const forced = await waitTask(sim, api, await ct.status.shutdown.$post({ timeout: 10, forceStop: true }));
    expect(forced.exitstatus).toBe('OK');
    expect((await ct.status.current.$get()).status).toBe('stopped');
  });
});

describe('parameter verification follows the schema rules with PVE texts', () => {
  it('reports type, minimum, enum, missing and unknown properties in the errors map', async () => {
    const res = await raw(sim, 'POST', '/nodes/srv-px1/lxc', {
      form: { vmid: 'abc', memory: 8, arch: 'sparc', bogus: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.reason).toBe('Parameter verification failed.');
    expect(res.json).toEqual({
      data: null,
      message: 'Parameter verification failed.\n',
      errors: {
        vmid: "type check ('integer') failed - got 'abc'",
        memory: 'value must have a minimum value of 16',
        arch: "value 'sparc' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'",
        bogus: 'property is not defined in schema and the schema does not allow additional properties',
        ostemplate: 'property is missing and it is not optional',
      },
    });
  });

  it('checks path parameters too (vmid below 100, non-boolean flags)', async () => {
    const res = await raw(sim, 'GET', '/nodes/srv-px1/lxc/99/status/current');
    expect(res.json?.errors).toEqual({ vmid: 'value must have a minimum value of 100' });
    const flags = await raw(sim, 'POST', `${CT}/migrate`, { form: { target: 'srv-px2', restart: 'maybe' } });
    expect(flags.json?.errors).toEqual({ restart: "type check ('boolean') failed - got 'maybe'" });
  });

  it('answers 501 for methods pve-sim does not implement', async () => {
    expectPveError(
      await raw(sim, 'GET', '/nodes/srv-px1/network'),
      501,
      "Method 'GET /nodes/srv-px1/network' not implemented",
    );
    expectPveError(await raw(sim, 'POST', '/version'), 501, "Method 'POST /version' not implemented");
  });
});

describe('authentication and permission failures look as PVE sends them', () => {
  it('401 without credentials, with a bad token or a bad ticket: reason phrase only, no body, no content type', async () => {
    for (const [headers, reason] of [
      [{}, 'No ticket'],
      [
        { Authorization: `PVEAPIToken=${sim.token.id}=00000000-0000-4000-a000-000000000000` },
        'Authentication failed!',
      ],
      [{ Cookie: 'PVEAuthCookie=PVE:root@pam:6543ABCD::forged' }, 'permission denied - invalid PVE ticket'],
    ] as const) {
      const res = await raw(sim, 'GET', '/nodes', { headers: { ...headers }, noAuth: true });
      expect(res.status).toBe(401);
      expect(res.reason).toBe(reason);
      expect(res.contentType).toBeNull();
      expect(res.text).toBe('');
    }
  });

  it('a ticket needs the CSRF header on writes and expires after two hours', async () => {
    const login = await raw(sim, 'POST', '/access/ticket', {
      form: { username: 'root@pam', password: sim.user.password },
      noAuth: true,
    });
    const { ticket, CSRFPreventionToken } = login.json?.data as {
      ticket: string;
      CSRFPreventionToken: string;
    };
    const cookie = { Cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` };
    expect((await raw(sim, 'GET', '/version', { headers: cookie })).status).toBe(200);
    const noCsrf = await raw(sim, 'PUT', `${CT}/config`, { headers: cookie, form: { cores: 2 } });
    expect([noCsrf.status, noCsrf.reason]).toEqual([401, 'Permission denied - invalid csrf token']);
    const withCsrf = await raw(sim, 'PUT', `${CT}/config`, {
      headers: { ...cookie, CSRFPreventionToken },
      form: { cores: 2 },
    });
    expect(withCsrf.status).toBe(200);
    await sim.advance(7201);
    const expired = await raw(sim, 'GET', '/version', { headers: cookie });
    expect([expired.status, expired.reason]).toEqual([401, 'permission denied - invalid PVE ticket']);
  });

  it('a wrong password is 401 authentication failure', async () => {
    const res = await raw(sim, 'POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'nope' },
      noAuth: true,
    });
    expect([res.status, res.reason]).toEqual([401, 'authentication failure']);
  });

  it('a read-only token may read but gets 403 Permission check failed on writes', async () => {
    const { tokens } = await import('../../simulator/scenarios/lab-2node.js').then((m) => m.lab2node(1));
    const ro = tokens.find((t) => t.id === 'root@pam!readonly')!;
    const headers = { Authorization: `PVEAPIToken=${ro.id}=${ro.secret}` };
    expect((await raw(sim, 'GET', '/cluster/resources', { headers })).status).toBe(200);
    expectPveError(
      await raw(sim, 'POST', `${CT}/status/stop`, { headers }),
      403,
      'Permission check failed (/vms/1400, VM.PowerMgmt)',
    );
    expectPveError(
      await raw(sim, 'PUT', `${CT}/config`, { headers, form: { cores: 1 } }),
      403,
      'Permission check failed (/vms/1400, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)',
    );
    const roApi = tokenApi(sim, undefined, ro);
    await expect(roApi.nodes.$('srv-px1').lxc.$(1400).status.stop.$post()).rejects.toThrow(
      /403 Permission check failed/,
    );
  });
});
