// TLS trust against a real local HTTPS server: a CA file, a pinned fingerprint, refusals that happen
// before any request reaches the server, and the request timeout.

import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPveClient, type PveClient } from '../../../src/proxmox/client';
import { PveError } from '../../../src/proxmox/errors';
import { TOKEN } from './fake-pve';

interface TestServer {
  port: number;
  requests: number;
  server: Server;
}

const VERSION = { version: '9.1.1', release: '9.1', repoid: 'abc' };

async function serve(key: string, cert: string, answer = true): Promise<TestServer> {
  const state: TestServer = { port: 0, requests: 0, server: undefined as unknown as Server };
  state.server = createServer({ key, cert }, (req, res) => {
    state.requests++;
    if (!answer) return; // hold the request open: the client's timeout must fire
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify({ data: VERSION }));
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

function stop(s: TestServer): Promise<void> {
  s.server.closeAllConnections();
  return new Promise((resolve) => s.server.close(() => resolve()));
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

const clients: PveClient[] = [];
function client(options: Record<string, unknown>): PveClient {
  const c = createPveClient({ ...TOKEN, timeoutMs: 2_000, ...options } as Parameters<
    typeof createPveClient
  >[0]);
  clients.push(c);
  return c;
}

let caFile = '';
let signed: TestServer; // leaf for localhost + 127.0.0.1, signed by the CA
let selfSigned: TestServer; // PVE-style self-signed leaf
let silent: TestServer; // accepts and never answers
let otherName: TestServer; // signed by the CA, but for another host name
let selfSignedFingerprint = '';
let signedFingerprint = '';

beforeAll(async () => {
  const ca = await generate([{ name: 'commonName', value: 'pve-autopilot test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const elsewhere = await generate([{ name: 'commonName', value: 'pve.invalid' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'pve.invalid' }] }],
  });
  const own = await generate([{ name: 'commonName', value: 'pve1' }], { keyType: 'ec', algorithm: 'sha256' });
  const dir = mkdtempSync(join(tmpdir(), 'pve-tls-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  signedFingerprint = new X509Certificate(leaf.cert).fingerprint256;
  selfSignedFingerprint = new X509Certificate(own.cert).fingerprint256;
  signed = await serve(leaf.private, leaf.cert);
  selfSigned = await serve(own.private, own.cert);
  silent = await serve(leaf.private, leaf.cert, false);
  otherName = await serve(elsewhere.private, elsewhere.cert);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all([signed, selfSigned, silent, otherName].filter(Boolean).map(stop));
});

const WRONG = 'AA:'.repeat(31) + 'AA';

describe('certificate trust', () => {
  it('trusts a server whose certificate the CA file signed', async () => {
    expect(await client({ host: '127.0.0.1', port: signed.port, caFile }).version()).toEqual(VERSION);
  });

  it('checks the host name against the certificate when trusting a CA', async () => {
    const before = otherName.requests;
    const err = await failureOf(() => client({ host: '127.0.0.1', port: otherName.port, caFile }).version());
    expect(err).toMatchObject({ kind: 'tls-rejected', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(otherName.requests).toBe(before);
  });

  it('refuses a CA-signed server when only the system store is trusted', async () => {
    const before = signed.requests;
    const err = await failureOf(() => client({ host: '127.0.0.1', port: signed.port }).version());
    expect(err).toMatchObject({ kind: 'tls-rejected', retryable: false });
    expect(signed.requests).toBe(before);
  });

  it('accepts a self-signed certificate whose fingerprint is pinned', async () => {
    const c = client({
      host: '127.0.0.1',
      port: selfSigned.port,
      fingerprint: selfSignedFingerprint.toLowerCase(),
    });
    expect(await c.version()).toEqual(VERSION);
  });

  it('refuses a wrong fingerprint before the request (and its token) reaches the server', async () => {
    const before = selfSigned.requests;
    const err = await failureOf(() =>
      client({ host: '127.0.0.1', port: selfSigned.port, fingerprint: WRONG }).version(),
    );
    expect(err).toMatchObject({
      kind: 'tls-rejected',
      code: 'ERR_PVE_FINGERPRINT_MISMATCH',
      retryable: false,
    });
    expect(err.message).toContain(selfSignedFingerprint);
    expect(selfSigned.requests).toBe(before);
  });

  it('with a CA and a pin, requires both', async () => {
    const ok = client({ host: '127.0.0.1', port: signed.port, caFile, fingerprint: signedFingerprint });
    expect(await ok.version()).toEqual(VERSION);
    const wrongPin = client({ host: '127.0.0.1', port: signed.port, caFile, fingerprint: WRONG });
    expect((await failureOf(() => wrongPin.version())).kind).toBe('tls-rejected');
    const wrongCa = client({
      host: '127.0.0.1',
      port: selfSigned.port,
      caFile,
      fingerprint: selfSignedFingerprint,
    });
    expect((await failureOf(() => wrongCa.version())).kind).toBe('tls-rejected');
  });
});

describe('transport failures', () => {
  it('times out a request the server never answers', async () => {
    const started = Date.now();
    const err = await failureOf(() =>
      client({ host: '127.0.0.1', port: silent.port, caFile, timeoutMs: 300 }).version(),
    );
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('reports a closed port as node-unreachable', async () => {
    // A port that was just free: listen, note it, close.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await failureOf(() => client({ host: '127.0.0.1', port, caFile }).version());
    expect(err).toMatchObject({ kind: 'node-unreachable', code: 'ECONNREFUSED', retryable: true });
  });
});
