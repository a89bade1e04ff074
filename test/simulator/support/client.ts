// Test helpers: proxmox-api clients that verify pve-sim's certificate (CA file or pinned SHA-256
// fingerprint), a manual-clock lab sim, raw HTTPS requests for wire checks, the admin API, and
// task waiting.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { proxmoxApi, type Proxmox } from 'proxmox-api';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { startSimulator, type RunningSim } from '../../../simulator/index.js';

export type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Trusts exactly the CA file pve-sim wrote (certificate verification stays on). */
export function caFetch(caFile: string): Fetch {
  const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
  return (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
}

/** Accepts only a server certificate with this SHA-256 fingerprint (how PVE users pin nodes). */
export function pinnedFetch(fingerprint: string): Fetch {
  const base = buildConnector({ rejectUnauthorized: false });
  const agent = new Agent({
    connect: (opts, cb) => {
      base(opts, (err, socket) => {
        if (err || !socket) return cb(err ?? new Error('no socket'), null);
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        const fp = cert?.raw ? new X509Certificate(cert.raw).fingerprint256 : undefined;
        if (fp !== fingerprint) {
          socket.destroy();
          return cb(
            new Error(`certificate fingerprint ${fp} does not match the pinned ${fingerprint}`),
            null,
          );
        }
        cb(null, socket);
      });
    },
  });
  return (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
}

/** proxmox-api bundles its own undici; the fetch shapes agree at run time, only the types differ. */
type ClientFetch = NonNullable<Extract<Parameters<typeof proxmoxApi>[0], { host: string }>['fetch']>;
const forClient = (f: Fetch): ClientFetch => f as unknown as ClientFetch;

export function tokenApi(
  sim: RunningSim,
  fetch: Fetch = caFetch(sim.caFile),
  token = sim.token,
): Proxmox.Api {
  return proxmoxApi({
    host: sim.host,
    port: sim.port,
    schema: sim.schema,
    tokenID: token.id,
    tokenSecret: token.secret,
    fetch: forClient(fetch),
  });
}

export function ticketApi(sim: RunningSim, fetch: Fetch = caFetch(sim.caFile)): Proxmox.Api {
  return proxmoxApi({
    host: sim.host,
    port: sim.port,
    schema: sim.schema,
    username: sim.user.username,
    password: sim.user.password,
    fetch: forClient(fetch),
  });
}

export interface RawResponse {
  status: number;
  reason: string;
  contentType: string | null;
  text: string;
  json: { data?: unknown; message?: string; errors?: Record<string, string>; total?: number } | null;
}

/** A raw request (reason phrase, headers, body as sent), authenticated with the scenario token unless headers say otherwise. */
export async function raw(
  sim: RunningSim,
  method: string,
  path: string,
  opts: { form?: Record<string, string | number>; headers?: Record<string, string>; noAuth?: boolean } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (!opts.noAuth && !headers.Authorization && !headers.Cookie)
    headers.Authorization = `PVEAPIToken=${sim.token.id}=${sim.token.secret}`;
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams(
      Object.entries(opts.form).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  const res = await caFetch(sim.caFile)(`${sim.url}${path.startsWith('/_sim') ? '' : '/api2/json'}${path}`, {
    method,
    headers,
    body,
  });
  const text = await res.text();
  let json: RawResponse['json'];
  try {
    json = text ? (JSON.parse(text) as RawResponse['json']) : null;
  } catch {
    json = null;
  }
  return {
    status: res.status,
    reason: res.statusText,
    contentType: res.headers.get('content-type'),
    text,
    json,
  };
}

export async function admin<T = unknown>(
  sim: RunningSim,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await caFetch(sim.caFile)(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: T; message?: string };
  if (res.status !== 200) throw new Error(`admin ${method} ${path}: ${res.status} ${json.message}`);
  return json.data;
}

export interface TaskStatus {
  status: string;
  exitstatus?: string;
  type: string;
  upid: string;
}

/** Advances the manual clock a second at a time until the task stops; returns its final status. */
export async function waitTask(
  sim: RunningSim,
  api: Proxmox.Api,
  upid: string,
  maxSeconds = 600,
): Promise<TaskStatus> {
  const node = upid.split(':')[1]!;
  for (let i = 0; i <= maxSeconds; i++) {
    const st = (await api.nodes.$(node).tasks.$(upid).status.$get()) as TaskStatus;
    if (st.status === 'stopped') return st;
    await sim.advance(1);
  }
  throw new Error(`task ${upid} still running after ${maxSeconds} simulated seconds`);
}

export async function taskLog(api: Proxmox.Api, upid: string): Promise<string[]> {
  const node = upid.split(':')[1]!;
  const lines = (await api.nodes.$(node).tasks.$(upid).log.$get({ limit: 1000 })) as Array<{
    n: number;
    t: string;
  }>;
  return lines.map((l) => l.t);
}

export const TEST_DATA_DIR = '.data/pve-sim-test';

/** lab-2node on a free port with a manual clock: time moves only when a test advances it. */
export function startManualLab(): Promise<RunningSim> {
  return startSimulator({
    scenario: 'lab-2node',
    port: 0,
    clock: { mode: 'manual' },
    dataDir: TEST_DATA_DIR,
    quiet: true,
  });
}
