// The client against an in-memory PVE: what goes on the wire, auth handling, no silent POST retry,
// secrets kept out of errors, and answers parsed into typed values.

import { describe, expect, it } from 'vitest';
import { createPveClient, type PveClient } from '../../../src/proxmox/client';
import { PveError } from '../../../src/proxmox/errors';
import { fakeFetch, networkError, pveBare, pveFail, pveOk, TOKEN, type Handler } from './fake-pve';

const UPID = 'UPID:pve1:00010D94:001CA6EA:6124E1B9:vzstart:101:root@pam!autopilot:';
const TICKET = 'PVE:root@pam:65A1B2C3::c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl';
const CSRF = '65A1B2C3:Y3NyZnRva2VuY3NyZnRva2Vu';

function tokenClient(handler: Handler, now?: () => number) {
  const fake = fakeFetch(handler);
  const client = createPveClient({ host: 'pve.example', ...TOKEN }, { fetch: fake.fetch, now });
  return { client, requests: fake.requests };
}

function passwordClient(handler: Handler) {
  let logins = 0;
  const fake = fakeFetch((req) => {
    if (req.url.pathname === '/api2/json/access/ticket') {
      logins++;
      return pveOk({
        username: 'root@pam',
        ticket: `${TICKET}${logins}`,
        CSRFPreventionToken: CSRF,
        cap: {},
      });
    }
    return handler(req);
  });
  const client = createPveClient(
    { host: 'pve.example', username: 'root', realm: 'pam', password: 'hunter2hunter2' },
    { fetch: fake.fetch },
  );
  return { client, requests: fake.requests, logins: () => logins };
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

describe('requests on the wire', () => {
  it('sends the API token header to https://host:8006/api2/json', async () => {
    const { client, requests } = tokenClient(() =>
      pveOk({ version: '9.1.1', release: '9.1', repoid: 'abc' }),
    );
    expect(await client.version()).toEqual({ version: '9.1.1', release: '9.1', repoid: 'abc' });
    expect(requests[0]?.url.href).toBe('https://pve.example:8006/api2/json/version');
    expect(requests[0]?.headers.authorization).toBe(`PVEAPIToken=${TOKEN.tokenId}=${TOKEN.tokenSecret}`);
  });

  it('updates config with the digest, tags joined by ";" and deletions joined by ","', async () => {
    const { client, requests } = tokenClient(() => pveOk(null));
    await client.updateConfig(
      'pve1',
      101,
      { cores: 4, memory: 2048, tags: ['a', 'b'], delete: ['cpulimit', 'swap'] },
      'd1g3st',
    );
    const req = requests[0];
    expect(req?.method).toBe('PUT');
    expect(req?.url.pathname).toBe('/api2/json/nodes/pve1/lxc/101/config');
    expect(Object.fromEntries(req?.body ?? [])).toEqual({
      cores: '4',
      memory: '2048',
      tags: 'a;b',
      delete: 'cpulimit,swap',
      digest: 'd1g3st',
    });
  });

  it('sends nothing for an update without changes', async () => {
    const { client, requests } = tokenClient(() => pveOk(null));
    await client.updateConfig('pve1', 101, {}, 'd1g3st');
    expect(requests).toHaveLength(0);
  });

  it('sends a restart migration with booleans as 1/0 and returns the UPID', async () => {
    const { client, requests } = tokenClient(() => pveOk(UPID));
    const upid = await client.migrateContainer('pve1', 101, {
      target: 'pve2',
      restart: true,
      online: false,
      timeout: 120,
    });
    expect(upid).toBe(UPID);
    expect(requests[0]?.url.pathname).toBe('/api2/json/nodes/pve1/lxc/101/migrate');
    expect(Object.fromEntries(requests[0]?.body ?? [])).toEqual({
      target: 'pve2',
      restart: '1',
      online: '0',
      timeout: '120',
    });
  });

  it('sends shutdown timeout and forceStop', async () => {
    const { client, requests } = tokenClient(() => pveOk(UPID));
    await client.shutdownContainer('pve1', 101, { timeout: 30, forceStop: true });
    expect(Object.fromEntries(requests[0]?.body ?? [])).toEqual({ timeout: '30', forceStop: '1' });
  });

  it('puts destroy options in the query of the DELETE', async () => {
    const { client, requests } = tokenClient(() => pveOk(UPID.replace('vzstart', 'vzdestroy')));
    await client.destroyContainer('pve1', 101, { purge: true });
    expect(requests[0]?.method).toBe('DELETE');
    expect(requests[0]?.url.search).toBe('?purge=1');
  });

  it('queries active tasks of one container', async () => {
    const { client, requests } = tokenClient(() => pveOk([]));
    await client.tasks('pve1', { source: 'active', vmid: 101, typefilter: 'vzmigrate' });
    expect(Object.fromEntries(requests[0]?.url.searchParams ?? [])).toEqual({
      source: 'active',
      vmid: '101',
      typefilter: 'vzmigrate',
    });
  });

  it('puts the UPID into the task status path as PVE expects it', async () => {
    const { client, requests } = tokenClient(() =>
      pveOk({
        upid: UPID,
        node: 'pve1',
        pid: 1,
        pstart: 2,
        starttime: 3,
        type: 'vzstart',
        id: '101',
        user: 'root@pam',
        status: 'running',
      }),
    );
    await client.taskStatus('pve1', UPID);
    expect(requests[0]?.url.pathname).toBe(`/api2/json/nodes/pve1/tasks/${UPID}/status`);
  });

  it('reads nextid, which PVE answers as a string', async () => {
    const { client } = tokenClient(() => pveOk('104'));
    expect(await client.nextId()).toBe(104);
  });

  it('stamps the cluster snapshot with the injected clock', async () => {
    const { client } = tokenClient(
      () => pveOk([{ id: 'node/pve1', type: 'node', node: 'pve1', status: 'online', maxcpu: 4 }]),
      () => 42,
    );
    const snapshot = await client.clusterSnapshot();
    expect(snapshot.takenAt).toBe(42);
    expect(snapshot.nodes.map((n) => n.name)).toEqual(['pve1']);
  });
});

describe('inputs checked before a request', () => {
  const cases: Array<[string, (c: PveClient) => Promise<unknown>, string]> = [
    ['a node name that walks up the path', (c) => c.containerConfig('..', 101), 'node'],
    ['a vmid below 100', (c) => c.startContainer('pve1', 7), 'vmid'],
    [
      'a migration target that is not a node name',
      (c) => c.migrateContainer('pve1', 101, { target: 'a/b' }),
      'target',
    ],
    ['a snapshot name with a slash', (c) => c.rollbackSnapshot('pve1', 101, 'x/../y'), 'snapname'],
    ['a UPID that is not one', (c) => c.taskStatus('pve1', 'UPID:nope'), 'upid'],
  ];
  it.each(cases)('refuses %s with invalid-parameter naming the field', async (_name, call, field) => {
    const { client, requests } = tokenClient(() => pveOk(null));
    const err = await failureOf(() => call(client));
    expect(err.kind).toBe('invalid-parameter');
    expect(err.fields).toHaveProperty(field);
    expect(requests).toHaveLength(0);
  });
});

describe('failures', () => {
  it('does not send a POST twice when its answer is lost', async () => {
    const { client, requests } = tokenClient(() => {
      throw networkError('ECONNRESET');
    });
    const err = await failureOf(() => client.startContainer('pve1', 101));
    expect(err).toMatchObject({
      kind: 'node-unreachable',
      retryable: true,
      method: 'POST',
      path: '/nodes/pve1/lxc/101/status/start',
    });
    expect(requests).toHaveLength(1);
  });

  it('raises bad-response naming the path and field of an answer that breaks the contract', async () => {
    const { client } = tokenClient(() => pveOk([{ node: 'pve1' }]));
    const err = await failureOf(() => client.nodes());
    expect(err.kind).toBe('bad-response');
    expect(err.message).toContain('GET /nodes');
    expect(err.issues?.[0]?.path).toBe('data[0].status');
  });

  it('raises bad-response when a long operation answers something that is not a UPID', async () => {
    const { client } = tokenClient(() => pveOk('done'));
    expect((await failureOf(() => client.startContainer('pve1', 101))).kind).toBe('bad-response');
  });

  it('carries the lock name of a locked container', async () => {
    const { client } = tokenClient(() => pveFail(500, 'CT is locked (backup)'));
    const err = await failureOf(() => client.updateConfig('pve1', 101, { cores: 2 }, 'd'));
    expect(err).toMatchObject({
      kind: 'locked',
      lock: 'backup',
      path: '/nodes/pve1/lxc/101/config',
      method: 'PUT',
    });
  });

  it('keeps the token secret and tickets out of error messages', async () => {
    const { client } = tokenClient((req) =>
      pveFail(
        500,
        `echo ${req.headers.authorization ?? ''} cookie PVEAuthCookie=${TICKET} raw ${TOKEN.tokenSecret}`,
      ),
    );
    const err = await failureOf(() => client.version());
    expect(err.message).not.toContain(TOKEN.tokenSecret);
    expect(err.message).not.toContain(TICKET);
    expect(JSON.stringify(err.details())).not.toContain(TOKEN.tokenSecret);
    expect(err.message).toContain('<redacted>');
  });

  it('keeps a new container root password out of a parameter error', async () => {
    const { client } = tokenClient((req) =>
      pveFail(400, 'Parameter verification failed.', {
        password: `value '${req.body.get('password') ?? ''}' too weak`,
      }),
    );
    const err = await failureOf(() =>
      client.createContainer('pve1', {
        vmid: 120,
        ostemplate: 'local:vztmpl/x.tar.zst',
        password: 'CorrectHorse9',
      }),
    );
    expect(err.kind).toBe('invalid-parameter');
    expect(err.fields?.password).toBe("value '<redacted>' too weak");
    expect(err.message).not.toContain('CorrectHorse9');
  });
});

describe('ticket authentication', () => {
  it('logs in once for concurrent first calls and sends cookie and CSRF token on writes', async () => {
    const { client, requests, logins } = passwordClient(() => pveOk(UPID));
    await Promise.all([client.startContainer('pve1', 101), client.startContainer('pve1', 102)]);
    expect(logins()).toBe(1);
    const login = requests.find((r) => r.url.pathname.endsWith('/access/ticket'));
    expect(login?.body.get('username')).toBe('root@pam');
    // PVE appends a realm it is sent to the user name (root@pam@pam): the realm travels only inside it.
    expect(login?.body.has('realm')).toBe(false);
    const post = requests.find((r) => r.url.pathname.endsWith('/status/start'));
    expect(post?.headers.cookie).toBe(`PVEAuthCookie=${TICKET}1`);
    expect(post?.headers.csrfpreventiontoken).toBe(CSRF);
  });

  it('logs in again and resends once when the ticket has expired', async () => {
    let calls = 0;
    const { client, logins } = passwordClient(() =>
      ++calls === 1 ? pveBare(401, 'permission denied - invalid PVE ticket') : pveOk(UPID),
    );
    expect(await client.startContainer('pve1', 101)).toBe(UPID);
    expect(logins()).toBe(2);
    expect(calls).toBe(2);
  });

  it('gives up with unauthorized when the fresh ticket is refused too', async () => {
    let calls = 0;
    const { client } = passwordClient(() => {
      calls++;
      return pveBare(401, 'permission denied - invalid PVE ticket');
    });
    expect((await failureOf(() => client.version())).kind).toBe('unauthorized');
    expect(calls).toBe(2);
  });

  it('reports a wrong password as unauthorized without retrying the login', async () => {
    let logins = 0;
    const fake = fakeFetch(() => {
      logins++;
      return pveBare(401, 'authentication failure');
    });
    const client = createPveClient(
      { host: 'h', username: 'root', password: 'wrong-password' },
      { fetch: fake.fetch },
    );
    const err = await failureOf(() => client.version());
    expect(err).toMatchObject({ kind: 'unauthorized', path: '/access/ticket' });
    expect(err.message).not.toContain('wrong-password');
    expect(logins).toBe(1);
  });
});

describe('token authentication', () => {
  it('does not resend after a 401 and still sends the token on the next call', async () => {
    let calls = 0;
    const { client, requests } = tokenClient(() =>
      ++calls === 1
        ? pveBare(401, 'permission denied - invalid PVE ticket')
        : pveOk({ version: '9', release: '9', repoid: 'r' }),
    );
    expect((await failureOf(() => client.version())).kind).toBe('unauthorized');
    expect(calls).toBe(1);
    await client.version();
    expect(requests[1]?.headers.authorization).toBe(`PVEAPIToken=${TOKEN.tokenId}=${TOKEN.tokenSecret}`);
  });
});
