// The error taxonomy of the Proxmox API: every failure leaving src/proxmox is a PveError with a kind;
// the table of kinds, their failure types and retryability lives in src/domain/pve-failures.ts.

import { ApplicationFailure } from '@temporalio/common';

export {
  pveErrorKinds,
  failureTypeOf,
  isRetryableKind,
  nonRetryableErrorTypes,
  pveFailureTypes,
  type PveErrorKind,
} from '../domain/pve-failures';
import { failureTypeOf, isRetryableKind, type PveErrorKind } from '../domain/pve-failures';

/** What was not found, when the message says so. */
export type PveResource = 'container' | 'node' | 'snapshot' | 'task' | 'storage' | 'pool';

/** For already-in-state: the state the target is already in. */
export type PveExistingState = 'running' | 'stopped' | 'exists';

/** For task-failed: what the exit status means, where a saga can act on it. */
export type PveTaskFailure = 'migration-aborted' | 'shutdown-timeout' | 'unsupported' | 'other';

export interface PveErrorInit {
  kind: PveErrorKind;
  message: string;
  status?: number;
  method?: string;
  /** API path without the /api2/json prefix, e.g. /nodes/pve1/lxc/101/status/start. */
  path?: string;
  /** locked: the lock name (migrate, backup, ...), when PVE names it. */
  lock?: string;
  /** invalid-parameter: PVE's per-field messages. */
  fields?: Record<string, string>;
  state?: PveExistingState;
  resource?: PveResource;
  /** Network errors: the system or undici error code (ECONNREFUSED, UND_ERR_SOCKET...). */
  code?: string;
  /** Task errors: the task and its exit status. */
  upid?: string;
  exitstatus?: string;
  taskFailure?: PveTaskFailure;
  /** bad-response: where the answer broke the contract. */
  issues?: Array<{ path: string; message: string }>;
}

/** Plain-JSON view of a PveError, safe for workflow payloads and logs (no secrets, no stack). */
export type PveErrorDetails = Omit<PveErrorInit, 'message'> & { retryable: boolean };

export class PveError extends Error {
  override readonly name = 'PveError';
  readonly kind: PveErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  readonly lock?: string;
  readonly fields?: Record<string, string>;
  readonly state?: PveExistingState;
  readonly resource?: PveResource;
  readonly code?: string;
  readonly upid?: string;
  readonly exitstatus?: string;
  readonly taskFailure?: PveTaskFailure;
  readonly issues?: Array<{ path: string; message: string }>;

  constructor(init: PveErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.retryable = isRetryableKind(init.kind);
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.lock = init.lock;
    this.fields = init.fields;
    this.state = init.state;
    this.resource = init.resource;
    this.code = init.code;
    this.upid = init.upid;
    this.exitstatus = init.exitstatus;
    this.taskFailure = init.taskFailure;
    this.issues = init.issues;
  }

  get failureType(): string {
    return failureTypeOf(this.kind);
  }

  details(): PveErrorDetails {
    const d: PveErrorDetails = { kind: this.kind, retryable: this.retryable };
    if (this.status !== undefined) d.status = this.status;
    if (this.method !== undefined) d.method = this.method;
    if (this.path !== undefined) d.path = this.path;
    if (this.lock !== undefined) d.lock = this.lock;
    if (this.fields !== undefined) d.fields = { ...this.fields };
    if (this.state !== undefined) d.state = this.state;
    if (this.resource !== undefined) d.resource = this.resource;
    if (this.code !== undefined) d.code = this.code;
    if (this.upid !== undefined) d.upid = this.upid;
    if (this.exitstatus !== undefined) d.exitstatus = this.exitstatus;
    if (this.taskFailure !== undefined) d.taskFailure = this.taskFailure;
    if (this.issues !== undefined) d.issues = this.issues.map((i) => ({ ...i }));
    return d;
  }

  /** Copy with text fields passed through `scrub` (used to strip secrets). */
  mapText(scrub: (text: string) => string): PveError {
    const fields =
      this.fields === undefined
        ? undefined
        : Object.fromEntries(Object.entries(this.fields).map(([k, v]) => [k, scrub(v)]));
    return new PveError({
      ...this.details(),
      message: scrub(this.message),
      fields,
      exitstatus: this.exitstatus === undefined ? undefined : scrub(this.exitstatus),
    });
  }

  toJSON(): PveErrorDetails & { message: string } {
    return { message: this.message, ...this.details() };
  }
}

export function isPveError(err: unknown): err is PveError {
  return err instanceof PveError;
}

/**
 * Turns a PveError into the failure an activity throws. The type names the kind (PveLocked...),
 * nonRetryable follows the taxonomy, details carry the plain-JSON view. The original error is not
 * attached as cause: its text came from the wire and its stack adds nothing a workflow can use.
 */
export function toApplicationFailure(err: PveError): ApplicationFailure {
  return ApplicationFailure.create({
    message: err.message,
    type: err.failureType,
    nonRetryable: !err.retryable,
    details: [err.details()],
  });
}

// ---------------------------------------------------------------------------------------------
// Classification of what the proxmox-api client throws.
// ---------------------------------------------------------------------------------------------

interface WireFailure {
  method?: string;
  url?: string;
  status?: number;
  reason?: string;
  body?: unknown;
}

/** Context a caller knows better than the error text (the transport passes the request). */
export interface ClassifyContext {
  method?: string;
  path?: string;
}

const API_PREFIX = '/api2/json';

/** Strips scheme, host, API prefix and query: `https://h:8006/api2/json/nodes?x=1` → `/nodes`. */
export function apiPathOf(url: string): string {
  try {
    // A bare path (the transport's) resolves against a dummy origin.
    const u = new URL(url, 'http://localhost');
    const p = u.pathname.startsWith(API_PREFIX) ? u.pathname.slice(API_PREFIX.length) : u.pathname;
    return p || '/';
  } catch {
    return url;
  }
}

/** Parses the JSON tail that proxmox-api appends after the reason phrase. */
function splitJsonTail(text: string, separator: string): { head: string; json: unknown } | undefined {
  let from = 0;
  for (;;) {
    const at = text.indexOf(separator, from);
    if (at < 0) return undefined;
    const tail = text.slice(at + separator.length);
    try {
      return { head: text.slice(0, at), json: JSON.parse(tail) as unknown };
    } catch {
      from = at + 1;
    }
  }
}

// "<METHOD> <url> return Error <status> <reason>: <json>" (400, 401, 500)
const RETURN_ERROR = /^([A-Z]+) (\S+) return Error (\d{3}) ?/;
// "<METHOD> <url> connection failed with <status> <reason> return: <json>" (every other status)
const CONNECTION_FAILED = /^([A-Z]+) (\S+) connection failed with (\d{3}) ?/;
// "<METHOD> <url> unexpected contentType "<type>" status Line:<status> ..."
const UNEXPECTED_TYPE = /^([A-Z]+) (\S+) unexpected contentType "([^"]*)" status Line:(\d{3})/;
// "FaILED to call <METHOD> <url>[ cause by:<message>]" (network error after the silent retry)
const FETCH_FAILED = /^FaILED to call ([A-Z]+) (\S+)/i;
// "Auth <url> Failed!" (login); the cause says why
const AUTH_FAILED = /^Auth (\S+) Failed!/;
// "login failed with <status>: <reason> <body>"
const LOGIN_FAILED = /^login failed with (\d{3}): ?(.*)$/s;

function parseWireMessage(message: string): WireFailure | undefined {
  let m = RETURN_ERROR.exec(message);
  if (m) {
    const rest = message.slice(m[0].length);
    const split = splitJsonTail(rest, ': ');
    return {
      method: m[1],
      url: m[2],
      status: Number(m[3]),
      reason: split ? split.head : rest,
      body: split?.json,
    };
  }
  m = CONNECTION_FAILED.exec(message);
  if (m) {
    const rest = message.slice(m[0].length);
    const split = splitJsonTail(rest, ' return: ');
    return {
      method: m[1],
      url: m[2],
      status: Number(m[3]),
      reason: split ? split.head : rest.replace(/ return:.*$/s, ''),
      body: split?.json,
    };
  }
  return undefined;
}

function bodyMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    const text = body.message.trim();
    return text.length > 0 ? text : undefined;
  }
  return undefined;
}

function bodyFields(body: unknown): Record<string, string> | undefined {
  if (!body || typeof body !== 'object' || !('errors' in body)) return undefined;
  const errors = body.errors;
  if (!errors || typeof errors !== 'object' || Array.isArray(errors)) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(errors)) {
    fields[key] = typeof value === 'string' ? value.trim() : JSON.stringify(value);
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

type TextClass = Pick<PveErrorInit, 'kind' | 'lock' | 'state' | 'resource' | 'taskFailure'>;

/**
 * Classifies a PVE error text (a reason phrase, a body message or a task exit status) on its words
 * alone. Returns undefined when the text says nothing specific; the status code decides then.
 */
export function classifyPveText(text: string): TextClass | undefined {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if (/^(?:CT|VM) \d+ already running/i.test(t)) return { kind: 'already-in-state', state: 'running' };
  if (/^(?:CT|VM) \d+ not running/i.test(t)) return { kind: 'already-in-state', state: 'stopped' };
  if ((m = /\bis locked \(([\w-]+)\)/i.exec(t))) return { kind: 'locked', lock: m[1] };
  if (/can't lock file/i.test(t)) return { kind: 'locked' };
  if (/detected modified configuration/i.test(t)) return { kind: 'stale-digest' };
  if (/Configuration file '[^']*' does not exist/i.test(t))
    return { kind: 'not-found', resource: 'container' };
  if (/no such cluster node/i.test(t)) return { kind: 'not-found', resource: 'node' };
  if (/snapshot '[^']*' does not exist/i.test(t)) return { kind: 'not-found', resource: 'snapshot' };
  if (/storage '[^']*' does not exist/i.test(t)) return { kind: 'not-found', resource: 'storage' };
  // A storage without the content type asked for (rootdir on 'local'): the request is wrong.
  if (/storage '[^']*' does not support/i.test(t)) return { kind: 'invalid-parameter' };
  if (/pool '[^']*' does not exist/i.test(t)) return { kind: 'not-found', resource: 'pool' };
  if (/no such task/i.test(t)) return { kind: 'not-found', resource: 'task' };
  if (/(?:CT|VM) \d+ already exists/i.test(t)) return { kind: 'already-in-state', state: 'exists' };
  if (/snapshot name '[^']*' already used/i.test(t)) return { kind: 'already-in-state', state: 'exists' };
  if (/container is running|protection mode enabled|can't migrate running container/i.test(t))
    return { kind: 'conflict' };
  if (
    /hostname lookup '[^']*' failed|No route to host|Connection refused|Network is unreachable|seems to be offline/i.test(
      t,
    )
  )
    return { kind: 'node-unreachable' };
  if (/Connection timed out/i.test(t)) return { kind: 'timeout' };
  if (/^migration aborted/i.test(t)) return { kind: 'task-failed', taskFailure: 'migration-aborted' };
  if (/container did not stop/i.test(t)) return { kind: 'task-failed', taskFailure: 'shutdown-timeout' };
  if (/not implemented|not supported/i.test(t)) return { kind: 'task-failed', taskFailure: 'unsupported' };
  return undefined;
}

function kindFromStatus(status: number): PveErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 400) return 'invalid-parameter';
  if (status === 404) return 'not-found';
  if (status === 408 || status === 504 || status === 596) return 'timeout';
  if (status === 595 || status === 502 || status === 503) return 'node-unreachable';
  // 501: the API has no such method; this client and the server disagree on the API.
  if (status === 501) return 'bad-response';
  if (status >= 500) return 'server';
  return 'bad-response';
}

function classifyWire(w: WireFailure, ctx: ClassifyContext): PveError {
  const status = w.status ?? 0;
  const text = bodyMessage(w.body) ?? (w.reason ?? '').trim();
  const fields = bodyFields(w.body);
  const method = ctx.method ?? w.method;
  const path = ctx.path ?? (w.url ? apiPathOf(w.url) : undefined);
  const where = method && path ? `${method} ${path}: ` : '';
  const fieldText = fields
    ? ' ' +
      Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')
    : '';
  const message = `${where}${text || `HTTP ${status}`}${fieldText} (HTTP ${status})`;
  const base = { message, status, method, path, fields };

  // Status codes that name the failure outright win over the text.
  if (status === 401 || status === 403) return new PveError({ ...base, kind: kindFromStatus(status) });
  const byText = classifyPveText(text) ?? (fields ? classifyFieldTexts(fields) : undefined);
  // A task-level meaning (migration aborted...) on a synchronous answer is just a server error text.
  if (byText && byText.kind !== 'task-failed') return new PveError({ ...base, ...byText });
  return new PveError({ ...base, kind: kindFromStatus(status) });
}

/** 400 answers put the real reason in the field map (no such task, target is local node). */
function classifyFieldTexts(fields: Record<string, string>): TextClass | undefined {
  for (const value of Object.values(fields)) {
    const c = classifyPveText(value);
    if (c && c.kind === 'not-found') return c;
  }
  return undefined;
}

const TLS_CODES =
  /^(?:ERR_PVE_FINGERPRINT_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_[A-Z_]+|ERR_SSL_[A-Z_]+|ERR_TLS_[A-Z_]+|HOSTNAME_MISMATCH)$/;
const TIMEOUT_CODES =
  /^(?:ETIMEDOUT|ESOCKETTIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_ABORTED|UND_ERR_ABORT|ABORT_ERR)$/;
const UNREACHABLE_CODES =
  /^(?:ECONNREFUSED|ECONNRESET|ECONNABORTED|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN|EAI_FAIL|EPIPE|UND_ERR_[A-Z_]+)$/;

interface NetworkClass {
  kind: 'timeout' | 'node-unreachable' | 'tls-rejected';
  code?: string;
  detail: string;
}

function errorLike(value: unknown): { name?: string; code?: string; message?: string; cause?: unknown } {
  if (!value || typeof value !== 'object') return {};
  const v = value as Record<string, unknown>;
  return {
    name: typeof v.name === 'string' ? v.name : undefined,
    code: typeof v.code === 'string' ? v.code : typeof v.code === 'number' ? String(v.code) : undefined,
    message: typeof v.message === 'string' ? v.message : undefined,
    cause: v.cause,
  };
}

/** Walks an error's cause chain for a network, TLS or timeout signature. */
export function classifyNetworkError(err: unknown): NetworkClass | undefined {
  let current: unknown = err;
  let found: NetworkClass | undefined;
  // Deepest specific code wins: undici wraps the socket error in TypeError('fetch failed').
  for (let depth = 0; depth < 8 && current; depth++) {
    const e = errorLike(current);
    const detail = e.message ?? String(current);
    if (e.code && TLS_CODES.test(e.code)) found = { kind: 'tls-rejected', code: e.code, detail };
    else if (e.code && TIMEOUT_CODES.test(e.code)) found = { kind: 'timeout', code: e.code, detail };
    else if (e.name === 'AbortError' || e.name === 'TimeoutError')
      found = { kind: 'timeout', code: e.name, detail };
    else if (e.code && UNREACHABLE_CODES.test(e.code))
      found = { kind: 'node-unreachable', code: e.code, detail };
    else if (!found && e.name === 'TypeError' && e.message === 'fetch failed')
      found = { kind: 'node-unreachable', detail };
    current = e.cause;
  }
  return found;
}

/**
 * Maps anything the proxmox-api client (or undici under it) throws to a PveError. Messages keep the
 * method and API path but never the host's credentials; the transport redacts the rest.
 */
export function classifyPveError(err: unknown, ctx: ClassifyContext = {}): PveError {
  if (err instanceof PveError) return err;
  const e = errorLike(err);
  const message = e.message ?? String(err);

  const wire = parseWireMessage(message);
  if (wire) return classifyWire(wire, ctx);

  let m = UNEXPECTED_TYPE.exec(message);
  if (m) {
    // Not PVE answering (a reverse proxy's HTML page, a captive portal): 5xx is the proxy failing.
    const status = Number(m[4]);
    const method = ctx.method ?? m[1];
    const path = ctx.path ?? apiPathOf(m[2] ?? '');
    return new PveError({
      kind: status >= 500 ? 'server' : 'bad-response',
      status,
      method,
      path,
      message: `${method} ${path}: unexpected Content-Type "${m[3]}" (HTTP ${status})`,
    });
  }

  m = AUTH_FAILED.exec(message);
  if (m) {
    // The login call failed, not the request that needed it: name the login path.
    const path = apiPathOf(m[1] ?? '');
    const where = `POST ${path}`;
    const cause = errorLike(e.cause);
    const login = cause.message ? LOGIN_FAILED.exec(cause.message) : null;
    if (login) {
      const status = Number(login[1]);
      const text = (login[2] ?? '').trim();
      const kind = status === 401 || status === 403 ? 'unauthorized' : kindFromStatus(status);
      return new PveError({
        kind,
        status,
        method: 'POST',
        path,
        message: `${where}: login failed: ${text} (HTTP ${status})`,
      });
    }
    const net = classifyNetworkError(e.cause);
    if (net)
      return new PveError({
        kind: net.kind,
        code: net.code,
        method: 'POST',
        path,
        message: `${where}: ${net.detail}`,
      });
    // The login answer was not JSON: whatever answered is not a PVE API.
    return new PveError({
      kind: 'bad-response',
      method: 'POST',
      path,
      message: `${where}: login answer unreadable: ${cause.message ?? 'unknown'}`,
    });
  }

  m = FETCH_FAILED.exec(message);
  const method = ctx.method ?? m?.[1];
  const path = ctx.path ?? (m?.[2] ? apiPathOf(m[2]) : undefined);
  const where = method && path ? `${method} ${path}: ` : '';
  const net = classifyNetworkError(err);
  if (net) {
    const detail = net.code && !net.detail.includes(net.code) ? `${net.detail} (${net.code})` : net.detail;
    return new PveError({ kind: net.kind, code: net.code, method, path, message: `${where}${detail}` });
  }
  if (m)
    return new PveError({
      kind: 'node-unreachable',
      method,
      path,
      message: message.replace(FETCH_FAILED, `${where}request failed`),
    });
  // Not a shape we know. Treat it as transient: the activity's retry budget bounds the cost.
  return new PveError({ kind: 'server', method, path, message: `${where}${message}` });
}
