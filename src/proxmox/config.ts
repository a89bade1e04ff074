// How to reach one Proxmox VE API: the zod schema src/config embeds, and its normalized form.
// Verification is always on: a CA file, a pinned SHA-256 fingerprint, or the system trust store.

import { z } from 'zod';

const UUID_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_ID = /^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/;
const FINGERPRINT = /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** `ab:cd:...` or `abcd...` → `AB:CD:...`, the form Node reports as `fingerprint256`. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

const baseSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .regex(/^[^\s/:]+$|^\[[0-9A-Fa-f:.]+\]$/, 'expected a host name or IP address, without scheme or port'),
  port: z.number().int().min(1).max(65535).default(8006),
  schema: z.enum(['https', 'http']).default('https'),
  tokenId: z.string().regex(TOKEN_ID, 'expected USER@REALM!TOKENID, e.g. root@pam!autopilot').optional(),
  tokenSecret: z
    .string()
    .regex(UUID_LOWER, 'expected a lowercase UUID like 12345678-1234-1234-1234-1234567890ab')
    .optional(),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  realm: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9.\-_]+$/, 'expected a realm id such as pam or pve')
    .optional(),
  caFile: z.string().min(1).optional(),
  fingerprint: z
    .string()
    .regex(FINGERPRINT, 'expected a SHA-256 fingerprint, 32 hex byte pairs like AB:CD:...')
    .optional(),
  timeoutMs: z.number().int().min(100).max(600_000).default(15_000),
});

/**
 * Connection settings as they appear in the config file. Exactly one of tokenId+tokenSecret or
 * username+password(+realm). There is deliberately no option to skip certificate verification:
 * pin the fingerprint of a self-signed certificate instead.
 */
export const pveConnectionSchema = baseSchema
  .superRefine((c, ctx) => {
    const token = c.tokenId !== undefined || c.tokenSecret !== undefined;
    const password = c.username !== undefined || c.password !== undefined || c.realm !== undefined;
    if (token && password) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenId'],
        message: 'set either tokenId+tokenSecret or username+password, not both',
      });
    } else if (token) {
      if (c.tokenId === undefined)
        ctx.addIssue({ code: 'custom', path: ['tokenId'], message: 'tokenId is required with tokenSecret' });
      if (c.tokenSecret === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['tokenSecret'],
          message: 'tokenSecret is required with tokenId',
        });
    } else if (password) {
      if (c.username === undefined)
        ctx.addIssue({ code: 'custom', path: ['username'], message: 'username is required with password' });
      if (c.password === undefined)
        ctx.addIssue({ code: 'custom', path: ['password'], message: 'password is required with username' });
      if (c.username?.includes('@') && c.realm !== undefined && !c.username.endsWith(`@${c.realm}`))
        ctx.addIssue({
          code: 'custom',
          path: ['realm'],
          message: `realm '${c.realm}' contradicts the realm in username`,
        });
    } else {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenId'],
        message: 'credentials are required: tokenId+tokenSecret or username+password',
      });
    }
    if (c.schema === 'http') {
      // Credentials would cross the network in clear; allow it only to a local TLS-terminating proxy.
      if (!LOOPBACK.has(c.host))
        ctx.addIssue({
          code: 'custom',
          path: ['schema'],
          message: "'http' is allowed only for a loopback host",
        });
      if (c.caFile !== undefined || c.fingerprint !== undefined)
        ctx.addIssue({ code: 'custom', path: ['schema'], message: 'caFile/fingerprint need schema https' });
    }
  })
  .transform((c): PveConnection => {
    const auth: PveAuth =
      c.tokenId !== undefined && c.tokenSecret !== undefined
        ? { kind: 'token', tokenId: c.tokenId, tokenSecret: c.tokenSecret }
        : {
            kind: 'password',
            username: c.username?.includes('@') ? c.username : `${c.username ?? 'root'}@${c.realm ?? 'pam'}`,
            password: c.password ?? '',
          };
    return {
      host: c.host,
      port: c.port,
      schema: c.schema,
      auth,
      tls: {
        ...(c.caFile !== undefined ? { caFile: c.caFile } : {}),
        ...(c.fingerprint !== undefined ? { fingerprint: normalizeFingerprint(c.fingerprint) } : {}),
      },
      timeoutMs: c.timeoutMs,
    };
  });

/** What src/config passes in (defaults optional). */
export type PveConnectionInput = z.input<typeof pveConnectionSchema>;

export type PveAuth =
  | { kind: 'token'; tokenId: string; tokenSecret: string }
  | { kind: 'password'; /** user@realm */ username: string; password: string };

export interface PveConnection {
  host: string;
  port: number;
  schema: 'https' | 'http';
  auth: PveAuth;
  tls: { caFile?: string; fingerprint?: string };
  timeoutMs: number;
}

/** One line for logs: where and as whom, never with what secret. */
export function describeConnection(c: PveConnection): string {
  const who = c.auth.kind === 'token' ? `token ${c.auth.tokenId}` : `user ${c.auth.username}`;
  const trust = c.tls.fingerprint
    ? `pinned ${c.tls.fingerprint.slice(0, 11)}…`
    : c.tls.caFile
      ? `CA ${c.tls.caFile}`
      : c.schema === 'https'
        ? 'system CAs'
        : 'plain http';
  return `${c.schema}://${c.host}:${c.port} as ${who} (${trust})`;
}

/** The strings that must never leave this module in clear. */
export function secretsOf(c: PveConnection): string[] {
  return c.auth.kind === 'token' ? [c.auth.tokenSecret] : [c.auth.password];
}
