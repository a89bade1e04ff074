// Connection settings: defaults, credential rules, and errors that name the field.

import { describe, expect, it } from 'vitest';
import { createPveClient } from '../../../src/proxmox/client';
import { describeConnection, pveConnectionSchema } from '../../../src/proxmox/config';
import { PveError } from '../../../src/proxmox/errors';
import { TOKEN } from './fake-pve';

const FP = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';

function issuesOf(input: unknown): Record<string, string> {
  const r = pveConnectionSchema.safeParse(input);
  if (r.success) throw new Error('expected the settings to be rejected');
  return Object.fromEntries(r.error.issues.map((i) => [i.path.join('.'), i.message]));
}

describe('pveConnectionSchema', () => {
  it('fills port 8006, https and a 15 s timeout', () => {
    const c = pveConnectionSchema.parse({ host: 'pve1.lab', ...TOKEN });
    expect(c).toEqual({
      host: 'pve1.lab',
      port: 8006,
      schema: 'https',
      auth: { kind: 'token', tokenId: TOKEN.tokenId, tokenSecret: TOKEN.tokenSecret },
      tls: {},
      timeoutMs: 15_000,
    });
  });

  it('joins username and realm, and defaults the realm to pam', () => {
    expect(
      pveConnectionSchema.parse({ host: 'h', username: 'ops', password: 'pw', realm: 'pve' }).auth,
    ).toEqual({
      kind: 'password',
      username: 'ops@pve',
      password: 'pw',
    });
    expect(pveConnectionSchema.parse({ host: 'h', username: 'root', password: 'pw' }).auth).toMatchObject({
      username: 'root@pam',
    });
    expect(pveConnectionSchema.parse({ host: 'h', username: 'a@pve', password: 'pw' }).auth).toMatchObject({
      username: 'a@pve',
    });
  });

  it('normalizes a pinned fingerprint to the form Node reports', () => {
    const c = pveConnectionSchema.parse({ host: 'h', ...TOKEN, fingerprint: FP.replace(/:/g, '') });
    expect(c.tls.fingerprint).toBe(FP.toUpperCase());
  });

  it('asks for credentials when none are given', () => {
    expect(issuesOf({ host: 'h' })).toHaveProperty('tokenId');
  });

  it('refuses token and password together', () => {
    expect(issuesOf({ host: 'h', ...TOKEN, username: 'root', password: 'x' }).tokenId).toMatch(/not both/);
  });

  it('refuses a token secret that proxmox-api would reject (upper case)', () => {
    expect(
      issuesOf({ host: 'h', tokenId: TOKEN.tokenId, tokenSecret: TOKEN.tokenSecret.toUpperCase() })
        .tokenSecret,
    ).toMatch(/lowercase UUID/);
  });

  it('refuses a token id without the !tokenid part', () => {
    expect(issuesOf({ host: 'h', tokenId: 'root@pam', tokenSecret: TOKEN.tokenSecret }).tokenId).toMatch(
      /USER@REALM!TOKENID/,
    );
  });

  it('has no way to turn verification off', () => {
    expect(issuesOf({ host: 'h', ...TOKEN, insecure: true })['']).toMatch(/insecure/);
  });

  it('refuses plain http to a remote host', () => {
    expect(issuesOf({ host: 'pve1.lab', schema: 'http', ...TOKEN }).schema).toMatch(/loopback/);
    expect(pveConnectionSchema.safeParse({ host: '127.0.0.1', schema: 'http', ...TOKEN }).success).toBe(true);
  });

  it('refuses a malformed fingerprint and a host with a scheme', () => {
    expect(issuesOf({ host: 'h', ...TOKEN, fingerprint: 'AB:CD' })).toHaveProperty('fingerprint');
    expect(issuesOf({ host: 'https://h', ...TOKEN })).toHaveProperty('host');
  });

  it('describes the connection without its secret', () => {
    const c = pveConnectionSchema.parse({ host: 'h', ...TOKEN, fingerprint: FP });
    const text = describeConnection(c);
    expect(text).toContain('https://h:8006');
    expect(text).toContain(TOKEN.tokenId);
    expect(text).not.toContain(TOKEN.tokenSecret);
  });
});

describe('createPveClient settings errors', () => {
  function thrown(run: () => unknown): PveError {
    try {
      run();
    } catch (err) {
      if (err instanceof PveError) return err;
      throw err;
    }
    throw new Error('expected a PveError');
  }

  it('names the bad field and keeps the rejected secret out of the message', () => {
    const secret = 'NOT-A-UUID-BUT-SECRET';
    const err = thrown(() => createPveClient({ host: 'h', tokenId: TOKEN.tokenId, tokenSecret: secret }));
    expect(err.kind).toBe('invalid-parameter');
    expect(err.fields).toHaveProperty('tokenSecret');
    expect(err.message).not.toContain(secret);
  });

  it('fails at creation when the CA file cannot be read', () => {
    const err = thrown(() => createPveClient({ host: 'h', ...TOKEN, caFile: '/nonexistent/ca.pem' }));
    expect(err.fields?.caFile).toMatch(/ENOENT/);
  });
});
