// The Proxmox client against pve-sim over HTTPS with verification on: trust by CA file and by
// pinned fingerprint, token and ticket auth, and the error kinds of real answers.
// The tests share one lab-2node cluster and run in file order: CT 1403 starts out stopped on
// srv-px2 and is only started and migrated by the last group.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index';
import { createPveClient, type PveClient } from '../../src/proxmox/client';
import { PveError } from '../../src/proxmox/errors';
import { findActiveTask, waitForTask } from '../../src/proxmox/tasks';
import { parseUpid } from '../../src/proxmox/upid';

type Sim = Awaited<ReturnType<typeof startSimulator>>;

let sim: Sim;
const clients: PveClient[] = [];

function connect(extra: Record<string, unknown> = {}): PveClient {
  const client = createPveClient({
    host: sim.host,
    port: sim.port,
    tokenId: sim.token.id,
    tokenSecret: sim.token.secret,
    caFile: sim.caFile,
    ...extra,
  } as Parameters<typeof createPveClient>[0]);
  clients.push(client);
  return client;
}

function asUser(username: string, password: string, realm?: string): PveClient {
  const client = createPveClient({
    host: sim.host,
    port: sim.port,
    username,
    password,
    caFile: sim.caFile,
    ...(realm === undefined ? {} : { realm }),
  });
  clients.push(client);
  return client;
}

async function failureOf(run: () => Promise<unknown>): Promise<PveError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof PveError) return err;
    throw err;
  }
  throw new Error('expected a PveError');
}

let adminAgent: Agent;
/** pve-sim's own admin API (not PVE): used to set up states such as a stuck lock. */
async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    dispatcher: adminAgent,
  });
  if (res.status !== 200) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  sim = await startSimulator({
    scenario: 'lab-2node',
    port: 0,
    clock: { mode: 'realtime', speed: 50 },
    dataDir: mkdtempSync(join(tmpdir(), 'pve-sim-client-')),
    quiet: true,
  });
  adminAgent = new Agent({ connect: { ca: sim.caPem } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await adminAgent?.close();
  await sim?.stop();
});

describe('trust and authentication', () => {
  it('reads the version over HTTPS trusting the CA file, with the API token', async () => {
    const version = await connect().version();
    expect(version.release).toMatch(/^\d+\.\d+$/);
  });

  it('connects with the pinned fingerprint of the server certificate', async () => {
    const client = connect({ caFile: undefined, fingerprint: sim.fingerprint });
    expect((await client.nodes()).map((n) => n.node).sort()).toEqual(['srv-px1', 'srv-px2']);
  });

  it('refuses a server whose certificate does not carry the pinned fingerprint', async () => {
    const wrong = sim.fingerprint.replace(/^../, sim.fingerprint.startsWith('00') ? '11' : '00');
    const err = await failureOf(() => connect({ caFile: undefined, fingerprint: wrong }).version());
    expect(err).toMatchObject({ kind: 'tls-rejected', retryable: false });
  });

  it('refuses the simulator certificate when nothing vouches for it', async () => {
    const err = await failureOf(() => connect({ caFile: undefined }).version());
    expect(err.kind).toBe('tls-rejected');
  });

  it('logs in with a ticket and writes with the CSRF token', async () => {
    const client = asUser(sim.user.username, sim.user.password);
    const config = await client.containerConfig('srv-px1', 1400);
    await client.updateConfig('srv-px1', 1400, { description: 'ticket auth' }, config.digest);
    expect((await client.containerConfig('srv-px1', 1400)).description).toBe('ticket auth');
  });

  it('logs in as PVE expects whichever way the config names the user and realm', async () => {
    // pve-sim, as PVE, appends any realm it is sent: the client must send only user@realm.
    for (const [username, realm] of [
      ['root', 'pam'],
      ['root@pam', 'pam'],
      ['root', undefined],
    ] as const)
      expect(
        (await asUser(username, sim.user.password, realm).version()).release,
        `${username} ${realm}`,
      ).toBe('9.1');
  });

  it('reports a wrong password as unauthorized without echoing it', async () => {
    const err = await failureOf(() => asUser(sim.user.username, 'not-the-password').version());
    expect(err.kind).toBe('unauthorized');
    expect(err.message).not.toContain('not-the-password');
  });

  it('reports a wrong token secret as unauthorized', async () => {
    const err = await failureOf(() =>
      connect({ tokenSecret: '00000000-0000-4000-8000-000000000000' }).version(),
    );
    expect(err.kind).toBe('unauthorized');
  });

  it('reports a missing privilege as forbidden', async () => {
    const err = await failureOf(() => asUser('auditor@pve', 'auditor-pass').startContainer('srv-px2', 1403));
    expect(err).toMatchObject({ kind: 'forbidden', status: 403 });
  });
});

describe('reading the cluster', () => {
  it('maps /cluster/resources into a snapshot of both nodes and their containers', async () => {
    const snapshot = await connect().clusterSnapshot();
    expect(snapshot.nodes.map((n) => [n.name, n.status])).toEqual([
      ['srv-px1', 'online'],
      ['srv-px2', 'online'],
    ]);
    const web = snapshot.containers.find((c) => c.vmid === 1400);
    expect(web).toMatchObject({ node: 'srv-px1', status: 'running', pool: 'autopilot', template: false });
    expect(web?.tags).toEqual(expect.arrayContaining(['autopilot', 'web']));
    expect(web?.maxmem).toBe(512 * 1024 * 1024);
  });

  it('parses node status, pools, templates and the next free id', async () => {
    const client = connect();
    expect((await client.nodeStatus('srv-px1')).cpuinfo.cpus).toBe(16);
    expect((await client.pools()).map((p) => p.poolid)).toEqual(expect.arrayContaining(['autopilot', 'lab']));
    const templates = await client.storageContent('srv-px1', 'local', 'vztmpl');
    expect(templates.map((t) => t.volid)).toContain('local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst');
    expect(await client.nextId()).toBeGreaterThanOrEqual(100);
  });
});

describe('error kinds on real answers', () => {
  it('already-in-state when starting a running container', async () => {
    const err = await failureOf(() => connect().startContainer('srv-px1', 1400));
    expect(err).toMatchObject({ kind: 'already-in-state', state: 'running', retryable: false });
  });

  it('already-in-state when stopping a stopped container', async () => {
    const err = await failureOf(() => connect().stopContainer('srv-px2', 1403));
    expect(err).toMatchObject({ kind: 'already-in-state', state: 'stopped' });
  });

  it('not-found for a container that does not exist on the node', async () => {
    const err = await failureOf(() => connect().containerConfig('srv-px1', 1499));
    expect(err).toMatchObject({ kind: 'not-found', resource: 'container', retryable: false });
  });

  it('not-found for an unknown migration target', async () => {
    const err = await failureOf(() =>
      connect().migrateContainer('srv-px1', 1401, { target: 'nowhere', restart: true }),
    );
    expect(err).toMatchObject({ kind: 'not-found', resource: 'node' });
  });

  it('invalid-parameter with the field map when migrating to the local node', async () => {
    const err = await failureOf(() =>
      connect().migrateContainer('srv-px1', 1401, { target: 'srv-px1', restart: true }),
    );
    expect(err.kind).toBe('invalid-parameter');
    expect(err.fields).toHaveProperty('target');
  });

  it('invalid-parameter on vmid when asking whether a taken id is free', async () => {
    const err = await failureOf(() => connect().nextId(1400));
    expect(err.kind).toBe('invalid-parameter');
    expect(err.fields).toHaveProperty('vmid');
  });

  it('conflict when moving a running container without restart', async () => {
    const err = await failureOf(() => connect().migrateContainer('srv-px1', 1401, { target: 'srv-px2' }));
    expect(err).toMatchObject({ kind: 'conflict', retryable: false });
  });

  it('stale-digest when the config changed since it was read', async () => {
    const client = connect();
    const before = await client.containerConfig('srv-px1', 1401);
    await client.updateConfig('srv-px1', 1401, { cores: (before.cores ?? 2) + 1 }, before.digest);
    const err = await failureOf(() => client.updateConfig('srv-px1', 1401, { cores: 1 }, before.digest));
    expect(err).toMatchObject({ kind: 'stale-digest', retryable: true });
  });

  it('locked with the lock name, synchronously on a config change and from a task on start', async () => {
    const client = connect();
    await admin('POST', '/containers/1403/lock', { lock: 'backup' });
    try {
      const digest = (await client.containerConfig('srv-px2', 1403)).digest;
      const sync = await failureOf(() => client.updateConfig('srv-px2', 1403, { cores: 2 }, digest));
      expect(sync).toMatchObject({ kind: 'locked', lock: 'backup', retryable: true });
      // Start checks the lock inside its task; some PVE versions refuse at once. Both must say locked.
      const fromTask = await failureOf(async () => {
        const upid = await client.startContainer('srv-px2', 1403);
        await waitForTask(client, 'srv-px2', upid, { pollMs: 50 });
      });
      expect(fromTask).toMatchObject({ kind: 'locked', lock: 'backup' });
    } finally {
      await admin('DELETE', '/containers/1403/lock');
    }
  });
});

describe('tasks', () => {
  it('starts a container, waits for the task with progress, and sees it running', async () => {
    const client = connect();
    const upid = await client.startContainer('srv-px2', 1403);
    expect(parseUpid(upid)).toMatchObject({ node: 'srv-px2', type: 'vzstart', id: '1403' });
    const progress: string[] = [];
    const done = await waitForTask(client, 'srv-px2', upid, {
      pollMs: 50,
      onProgress: (s) => void progress.push(s.status),
    });
    expect(done.exitstatus).toBe('OK');
    expect(progress.at(-1)).toBe('stopped');
    expect((await client.containerStatus('srv-px2', 1403)).status).toBe('running');
  });

  it('adopts a migration already in flight and follows it to the target node', async () => {
    const client = connect();
    const upid = await client.migrateContainer('srv-px2', 1403, {
      target: 'srv-px1',
      restart: true,
      timeout: 30,
    });
    const active = await findActiveTask(client, 'srv-px2', 1403, 'vzmigrate');
    expect(active?.upid).toBe(upid);
    await waitForTask(client, 'srv-px2', upid, { pollMs: 50 });
    const snapshot = await client.clusterSnapshot();
    expect(snapshot.containers.find((c) => c.vmid === 1403)).toMatchObject({
      node: 'srv-px1',
      status: 'running',
    });
    expect(await findActiveTask(client, 'srv-px2', 1403, 'vzmigrate')).toBeUndefined();
  });

  it('creates, snapshots, rolls back and destroys a container', async () => {
    const client = connect();
    const vmid = await client.nextId(1450);
    const created = await client.createContainer('srv-px1', {
      vmid,
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      hostname: `t-${vmid}`,
      memory: 512,
      cores: 1,
      rootfs: 'local-lvm:4',
      pool: 'autopilot',
      tags: ['autopilot', 'test'],
    });
    await waitForTask(client, 'srv-px1', created, { pollMs: 50 });
    expect((await client.containerConfig('srv-px1', vmid)).tags).toEqual(['autopilot', 'test']);

    await waitForTask(client, 'srv-px1', await client.createSnapshot('srv-px1', vmid, 'before'), {
      pollMs: 50,
    });
    expect((await client.snapshots('srv-px1', vmid)).map((s) => s.name)).toEqual(
      expect.arrayContaining(['before', 'current']),
    );
    await waitForTask(client, 'srv-px1', await client.rollbackSnapshot('srv-px1', vmid, 'before'), {
      pollMs: 50,
    });
    await waitForTask(client, 'srv-px1', await client.deleteSnapshot('srv-px1', vmid, 'before'), {
      pollMs: 50,
    });
    // PVE checks the snapshot inside the rollback task: the exit status carries the not-found.
    const missing = await failureOf(async () =>
      waitForTask(client, 'srv-px1', await client.rollbackSnapshot('srv-px1', vmid, 'before'), {
        pollMs: 50,
      }),
    );
    expect(missing).toMatchObject({ kind: 'not-found', resource: 'snapshot' });

    await waitForTask(client, 'srv-px1', await client.destroyContainer('srv-px1', vmid, { purge: true }), {
      pollMs: 50,
    });
    expect((await failureOf(() => client.containerStatus('srv-px1', vmid))).kind).toBe('not-found');
  });
});
