// Environment overrides for connection settings and secrets, so that secrets can stay out of the
// config file and one file can serve several deployments. The environment wins over the file.

import { formatPath } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

type Credential = 'token' | 'password';

interface EnvOverride {
  variable: string;
  path: readonly [string, string, ...string[]];
  kind: 'text' | 'integer';
  credential?: Credential;
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'PROXMOX_HOST', path: ['proxmox', 'host'], kind: 'text' },
  { variable: 'PROXMOX_PORT', path: ['proxmox', 'port'], kind: 'integer' },
  { variable: 'PROXMOX_SCHEMA', path: ['proxmox', 'schema'], kind: 'text' },
  { variable: 'PROXMOX_TOKEN_ID', path: ['proxmox', 'tokenId'], kind: 'text', credential: 'token' },
  { variable: 'PROXMOX_TOKEN_SECRET', path: ['proxmox', 'tokenSecret'], kind: 'text', credential: 'token' },
  { variable: 'PROXMOX_USER', path: ['proxmox', 'username'], kind: 'text', credential: 'password' },
  { variable: 'PROXMOX_PASSWORD', path: ['proxmox', 'password'], kind: 'text', credential: 'password' },
  { variable: 'PROXMOX_REALM', path: ['proxmox', 'realm'], kind: 'text', credential: 'password' },
  { variable: 'PROXMOX_CA_FILE', path: ['proxmox', 'caFile'], kind: 'text' },
  { variable: 'PROXMOX_FINGERPRINT', path: ['proxmox', 'fingerprint'], kind: 'text' },
  { variable: 'PROXMOX_TIMEOUT_MS', path: ['proxmox', 'timeoutMs'], kind: 'integer' },
  { variable: 'TEMPORAL_ADDRESS', path: ['temporal', 'address'], kind: 'text' },
  { variable: 'TEMPORAL_NAMESPACE', path: ['temporal', 'namespace'], kind: 'text' },
  { variable: 'TEMPORAL_TASK_QUEUE', path: ['temporal', 'taskQueue'], kind: 'text' },
  { variable: 'TEMPORAL_API_KEY', path: ['temporal', 'apiKey'], kind: 'text' },
  { variable: 'TEMPORAL_TLS_CERT', path: ['temporal', 'tls', 'certFile'], kind: 'text' },
  { variable: 'TEMPORAL_TLS_KEY', path: ['temporal', 'tls', 'keyFile'], kind: 'text' },
  { variable: 'TEMPORAL_TLS_CA', path: ['temporal', 'tls', 'caFile'], kind: 'text' },
  { variable: 'TEMPORAL_TLS_SERVER_NAME', path: ['temporal', 'tls', 'serverName'], kind: 'text' },
];

const CREDENTIAL_KEYS: Record<Credential, readonly string[]> = {
  token: ['tokenId', 'tokenSecret'],
  password: ['username', 'password', 'realm'],
};

export interface Overridden {
  /** The input with the overrides applied; the caller's value is not modified. */
  raw: unknown;
  /** Dotted path → variable, for each field the environment set. */
  sources: Record<string, string>;
}

/**
 * Empty variables count as unset, as shells and compose files make them easily. Credentials of
 * one kind from the environment replace the file's credentials of the other kind: the
 * environment chose how to log in.
 */
export function applyEnvOverrides(raw: unknown, env: Env): Overridden {
  const set = ENV_OVERRIDES.filter((o) => (env[o.variable] ?? '') !== '');
  if (set.length === 0 || !isMapping(raw ?? {})) return { raw, sources: {} };
  const root = structuredClone((raw ?? {}) as Record<string, unknown>);
  const sources: Record<string, string> = {};

  for (const credential of ['token', 'password'] as const) {
    if (!set.some((o) => o.credential === credential)) continue;
    const other = credential === 'token' ? 'password' : 'token';
    const proxmox = root.proxmox;
    if (isMapping(proxmox)) for (const key of CREDENTIAL_KEYS[other]) delete proxmox[key];
  }

  for (const override of set) {
    const parent = mappingAt(root, override.path.slice(0, -1));
    // A section that is not a mapping is reported by the schema; the override cannot apply.
    if (parent === undefined) continue;
    const text = env[override.variable] as string;
    parent[override.path[override.path.length - 1] as string] =
      override.kind === 'integer' && /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
    sources[formatPath(override.path)] = override.variable;
  }
  return { raw: root, sources };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mappingAt(
  root: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> | undefined {
  let here = root;
  for (const key of path) {
    const next = here[key] ?? {};
    if (!isMapping(next)) return undefined;
    here[key] = next;
    here = next;
  }
  return here;
}
