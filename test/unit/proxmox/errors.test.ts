// The error taxonomy: the texts PVE really sends, thrown through the real proxmox-api engine so the
// messages under test are the ones the library builds, then classified.

import { ApplicationFailure } from '@temporalio/common';
import { ProxmoxEngine, type ProxmoxEngineOptions } from 'proxmox-api';
import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  classifyPveError,
  nonRetryableErrorTypes,
  PveError,
  pveFailureTypes,
  toApplicationFailure,
  type PveErrorInit,
} from '../../../src/proxmox/errors';
import { FingerprintMismatchError } from '../../../src/proxmox/tls';
import { fakeFetch, networkError, pveBare, pveFail, TOKEN, type Handler } from './fake-pve';

type EngineFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

/** Runs one request through proxmox-api against `handler` and returns what it throws. */
async function thrownBy(
  handler: Handler,
  method = 'POST',
  auth: 'token' | 'password' = 'token',
): Promise<unknown> {
  const { fetch } = fakeFetch(handler);
  const common = { host: 'pve.example', port: 8006, fetch: fetch as unknown as EngineFetch };
  const engine =
    auth === 'token'
      ? new ProxmoxEngine({ ...common, tokenID: TOKEN.tokenId, tokenSecret: TOKEN.tokenSecret })
      : new ProxmoxEngine({ ...common, username: 'root@pam', password: 'hunter2hunter2' });
  try {
    await engine.doRequest(method, '/api2/json/nodes/pve1/lxc/101/status/start', '', { x: 1 }, 1);
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

type Expected = Partial<
  Pick<PveErrorInit, 'kind' | 'lock' | 'state' | 'resource' | 'fields' | 'status' | 'code'>
> & {
  retryable: boolean;
};

const answers: Array<[string, () => Response, Expected]> = [
  [
    'CT 101 already running',
    () => pveFail(500, 'CT 101 already running'),
    { kind: 'already-in-state', state: 'running', status: 500, retryable: false },
  ],
  [
    'CT 101 not running',
    () => pveFail(500, 'CT 101 not running'),
    { kind: 'already-in-state', state: 'stopped', retryable: false },
  ],
  [
    'CT is locked (migrate)',
    () => pveFail(500, 'CT is locked (migrate)'),
    { kind: 'locked', lock: 'migrate', retryable: true },
  ],
  [
    'CT is locked (snapshot-delete)',
    () => pveFail(500, 'CT is locked (snapshot-delete)'),
    { kind: 'locked', lock: 'snapshot-delete', retryable: true },
  ],
  [
    "can't lock file (flock timeout)",
    () => pveFail(500, "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout"),
    { kind: 'locked', retryable: true },
  ],
  [
    'stale digest',
    () => pveFail(500, 'detected modified configuration - file changed by other user? Try again.'),
    { kind: 'stale-digest', retryable: true },
  ],
  [
    'missing CT config',
    () => pveFail(500, "Configuration file 'nodes/pve1/lxc/999.conf' does not exist"),
    { kind: 'not-found', resource: 'container', retryable: false },
  ],
  [
    'unknown cluster node',
    () => pveFail(500, "no such cluster node 'x'"),
    { kind: 'not-found', resource: 'node', retryable: false },
  ],
  [
    'storage without container volumes',
    () => pveFail(500, "storage 'local' does not support container directories"),
    { kind: 'invalid-parameter', retryable: false },
  ],
  [
    'missing snapshot',
    () => pveFail(500, "snapshot 'before-upgrade' does not exist"),
    { kind: 'not-found', resource: 'snapshot', retryable: false },
  ],
  [
    'parameter verification with field map',
    () =>
      pveFail(400, 'Parameter verification failed.', { vmid: 'property is missing and it is not optional' }),
    {
      kind: 'invalid-parameter',
      status: 400,
      fields: { vmid: 'property is missing and it is not optional' },
      retryable: false,
    },
  ],
  [
    'migration to the local node',
    () => pveFail(400, 'Parameter verification failed.', { target: 'target is local node.' }),
    { kind: 'invalid-parameter', fields: { target: 'target is local node.' }, retryable: false },
  ],
  [
    'vmid taken on nextid',
    () => pveFail(400, 'Parameter verification failed.', { vmid: 'VM 100 already exists' }),
    { kind: 'invalid-parameter', fields: { vmid: 'VM 100 already exists' }, retryable: false },
  ],
  [
    'unknown task',
    () => pveFail(400, 'Parameter verification failed.', { upid: 'no such task' }),
    { kind: 'not-found', resource: 'task', retryable: false },
  ],
  ['401 No ticket', () => pveBare(401, 'No ticket'), { kind: 'unauthorized', status: 401, retryable: false }],
  [
    '401 authentication failure',
    () => pveBare(401, 'authentication failure'),
    { kind: 'unauthorized', retryable: false },
  ],
  [
    '401 invalid csrf token',
    () => pveBare(401, 'Permission denied - invalid csrf token'),
    { kind: 'unauthorized', retryable: false },
  ],
  [
    '403 permission check',
    () => pveFail(403, 'Permission check failed (/vms/101, VM.PowerMgmt)'),
    { kind: 'forbidden', status: 403, retryable: false },
  ],
  [
    '595 hostname lookup',
    () =>
      pveFail(
        595,
        "hostname lookup 'pve3' failed - failed to get address info for: pve3: Name or service not known",
      ),
    { kind: 'node-unreachable', status: 595, retryable: true },
  ],
  [
    '595 No route to host',
    () => pveBare(595, 'No route to host'),
    { kind: 'node-unreachable', retryable: true },
  ],
  [
    '595 Connection refused',
    () => pveBare(595, 'Connection refused'),
    { kind: 'node-unreachable', retryable: true },
  ],
  [
    '596 Connection timed out',
    () => pveBare(596, 'Connection timed out'),
    { kind: 'timeout', retryable: true },
  ],
  [
    'plain 500 server failure',
    () => pveFail(500, 'got unexpected control message'),
    { kind: 'server', status: 500, retryable: true },
  ],
  [
    '503 service unavailable',
    () => pveBare(503, 'Service Unavailable'),
    { kind: 'node-unreachable', retryable: true },
  ],
  [
    '501 method not implemented',
    () => pveFail(501, "Method 'GET /foo/bar' not implemented"),
    { kind: 'bad-response', status: 501, retryable: false },
  ],
  [
    'destroying a running CT',
    () => pveFail(500, 'unable to destroy CT 101 - container is running'),
    { kind: 'conflict', retryable: false },
  ],
  [
    'protection mode',
    () => pveFail(500, "can't remove CT 101 - protection mode enabled"),
    { kind: 'conflict', retryable: false },
  ],
  [
    'moving a running CT without restart',
    () => pveFail(500, "can't migrate running container without --online or --restart"),
    { kind: 'conflict', retryable: false },
  ],
  [
    'create over an existing CT',
    () => pveFail(500, "CT 101 already exists on node 'pve1'"),
    { kind: 'already-in-state', state: 'exists', retryable: false },
  ],
  [
    'an HTML error page from a proxy',
    () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    { kind: 'server', status: 502, retryable: true },
  ],
];

describe('classifyPveError on PVE answers', () => {
  it.each(answers)('classifies %s', async (_name, answer, expected) => {
    const err = classifyPveError(await thrownBy(() => answer()));
    expect(err).toBeInstanceOf(PveError);
    expect(err).toMatchObject(expected);
  });

  it('keeps method and API path, and prefers the body message over the reason phrase', async () => {
    const err = classifyPveError(await thrownBy(() => pveFail(500, 'CT is locked (backup)')));
    expect(err.method).toBe('POST');
    expect(err.path).toBe('/nodes/pve1/lxc/101/status/start');
    expect(err.message).toBe('POST /nodes/pve1/lxc/101/status/start: CT is locked (backup) (HTTP 500)');
  });

  it('names every invalid field in the message', async () => {
    const err = classifyPveError(
      await thrownBy(() =>
        pveFail(400, 'Parameter verification failed.', { cores: 'type check', memory: 'minimum 16' }),
      ),
    );
    expect(err.message).toContain('cores: type check');
    expect(err.message).toContain('memory: minimum 16');
  });

  it('classifies a reason phrase that itself contains ": "', () => {
    const err = classifyPveError(
      new Error(
        'GET https://h:8006/api2/json/nodes/pve3/status connection failed with 595 hostname lookup \'pve3\' failed - failed to get address info for: pve3: Name or service not known return: {"data":null}',
      ),
    );
    expect(err).toMatchObject({ kind: 'node-unreachable', status: 595, path: '/nodes/pve3/status' });
  });
});

const network: Array<[string, () => unknown, Expected]> = [
  [
    'ECONNREFUSED',
    () => networkError('ECONNREFUSED'),
    { kind: 'node-unreachable', code: 'ECONNREFUSED', retryable: true },
  ],
  ['ECONNRESET', () => networkError('ECONNRESET'), { kind: 'node-unreachable', retryable: true }],
  ['EHOSTUNREACH', () => networkError('EHOSTUNREACH'), { kind: 'node-unreachable', retryable: true }],
  [
    'ENOTFOUND',
    () => networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND pve'),
    { kind: 'node-unreachable', retryable: true },
  ],
  [
    'UND_ERR_SOCKET',
    () => networkError('UND_ERR_SOCKET', 'other side closed'),
    { kind: 'node-unreachable', retryable: true },
  ],
  ['ETIMEDOUT', () => networkError('ETIMEDOUT'), { kind: 'timeout', code: 'ETIMEDOUT', retryable: true }],
  [
    'UND_ERR_CONNECT_TIMEOUT',
    () => networkError('UND_ERR_CONNECT_TIMEOUT'),
    { kind: 'timeout', retryable: true },
  ],
  [
    'UND_ERR_HEADERS_TIMEOUT',
    () => networkError('UND_ERR_HEADERS_TIMEOUT'),
    { kind: 'timeout', retryable: true },
  ],
  [
    'AbortError',
    () => new DOMException('This operation was aborted', 'AbortError'),
    { kind: 'timeout', retryable: true },
  ],
  [
    'TimeoutError',
    () => new DOMException('The operation timed out', 'TimeoutError'),
    { kind: 'timeout', retryable: true },
  ],
  [
    'self-signed certificate',
    () => networkError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
    { kind: 'tls-rejected', retryable: false },
  ],
  [
    'fingerprint mismatch',
    () => new TypeError('fetch failed', { cause: new FingerprintMismatchError('AA:BB', 'CC:DD') }),
    { kind: 'tls-rejected', code: 'ERR_PVE_FINGERPRINT_MISMATCH', retryable: false },
  ],
];

describe('classifyPveError on network errors', () => {
  it.each(network)('classifies %s thrown through proxmox-api', async (_name, failure, expected) => {
    const err = classifyPveError(
      await thrownBy(() => {
        throw failure();
      }, 'GET'),
    );
    expect(err).toMatchObject({ ...expected, method: 'GET', path: '/nodes/pve1/lxc/101/status/start' });
  });

  it.each(network)('classifies %s thrown bare', (_name, failure, expected) => {
    expect(classifyPveError(failure())).toMatchObject(expected);
  });

  it('classifies a failed login as unauthorized on the ticket path', async () => {
    const err = classifyPveError(
      await thrownBy(() => pveBare(401, 'authentication failure'), 'GET', 'password'),
    );
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401, path: '/access/ticket' });
  });

  it('classifies an unreachable host during login as node-unreachable', async () => {
    const err = classifyPveError(
      await thrownBy(
        () => {
          throw networkError('ECONNREFUSED');
        },
        'GET',
        'password',
      ),
    );
    expect(err).toMatchObject({ kind: 'node-unreachable', path: '/access/ticket', retryable: true });
  });

  it('treats an error it cannot read as a retryable server error', () => {
    expect(classifyPveError(new Error('something odd'))).toMatchObject({ kind: 'server', retryable: true });
    expect(classifyPveError('a string')).toMatchObject({ kind: 'server' });
  });

  it('returns a PveError unchanged', () => {
    const e = new PveError({ kind: 'locked', lock: 'backup', message: 'x' });
    expect(classifyPveError(e)).toBe(e);
  });
});

describe('Temporal failures', () => {
  it('lists exactly the non-retryable kinds for retry policies', () => {
    expect([...nonRetryableErrorTypes].sort()).toEqual(
      [
        'PveAlreadyInState',
        'PveBadResponse',
        'PveConflict',
        'PveForbidden',
        'PveInvalidParameter',
        'PveNotFound',
        'PveTaskFailed',
        'PveTlsRejected',
        'PveUnauthorized',
      ].sort(),
    );
    for (const t of nonRetryableErrorTypes) expect(pveFailureTypes).toContain(t);
  });

  it('turns a locked error into a retryable PveLocked failure carrying the lock name', () => {
    const failure = toApplicationFailure(
      new PveError({ kind: 'locked', lock: 'migrate', status: 500, message: 'm' }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('PveLocked');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ kind: 'locked', retryable: true, lock: 'migrate', status: 500 }]);
  });

  it('turns invalid-parameter into a non-retryable failure with the field map', () => {
    const failure = toApplicationFailure(
      new PveError({ kind: 'invalid-parameter', fields: { target: 'target is local node.' }, message: 'm' }),
    );
    expect(failure.type).toBe('PveInvalidParameter');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toMatchObject({ fields: { target: 'target is local node.' } });
  });

  it('gives failure details that survive JSON unchanged', () => {
    const err = new PveError({
      kind: 'task-failed',
      upid: 'UPID:x',
      exitstatus: 'migration aborted',
      message: 'm',
    });
    const details = toApplicationFailure(err).details?.[0];
    expect(JSON.parse(JSON.stringify(details))).toEqual(details);
  });
});
