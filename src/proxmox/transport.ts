// The request layer under the typed proxmox-api proxy: one ProxmoxEngine, no silent retries, login
// handled once and renewed on an expired ticket, and every failure turned into a redacted PveError.

import { ProxmoxEngine, type ApiRequestable, type ProxmoxEngineOptions } from 'proxmox-api';
import { secretsOf, type PveConnection } from './config';
import { apiPathOf, classifyPveError, PveError } from './errors';
import { redactSecrets } from './redact';
import { noteRequest } from './request-count';
import type { PveFetchFn } from './tls';

type EngineFetch = NonNullable<ProxmoxEngineOptions['fetch']>;
type Params = Record<string, unknown>;

/**
 * proxmox-api repeats a request once after a network error when its `retries` argument is 0, POSTs
 * included. Passing 1 makes that first failure final: a POST whose answer was lost must not be sent
 * again behind the caller's back; the activity's retry first looks for the task in flight.
 */
const NO_SILENT_RETRY = 1;

function stripUndefined(params: Params | undefined): Params | undefined {
  if (!params) return undefined;
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

export class PveTransport implements ApiRequestable {
  private engine: ProxmoxEngine;
  private login: Promise<unknown> | undefined;

  constructor(
    private readonly connection: PveConnection,
    private readonly fetch: PveFetchFn,
  ) {
    this.engine = this.newEngine();
  }

  private newEngine(): ProxmoxEngine {
    const c = this.connection;
    const common = {
      host: c.host,
      // proxmox-api does not default the port: without it the URL has none and hits 443.
      port: c.port,
      schema: c.schema,
      queryTimeout: c.timeoutMs,
      authTimeout: c.timeoutMs,
      // undici 7's fetch, where proxmox-api declares undici 6's types; the runtime contract
      // (WHATWG fetch) is the same.
      fetch: this.fetch as unknown as EngineFetch,
    };
    return c.auth.kind === 'token'
      ? new ProxmoxEngine({ ...common, tokenID: c.auth.tokenId, tokenSecret: c.auth.tokenSecret })
      : new ProxmoxEngine({ ...common, username: c.auth.username, password: c.auth.password });
  }

  /** Forgets the engine and its ticket (proxmox-api may also have dropped a token after a 401). */
  private reset(): void {
    this.engine = this.newEngine();
    this.login = undefined;
  }

  private ensureLogin(): Promise<unknown> {
    // Concurrent first calls share one login instead of racing several.
    this.login ??= this.engine.getTicket().catch((err: unknown) => {
      this.login = undefined;
      throw err;
    });
    return this.login;
  }

  private redact(err: PveError, extra: ReadonlyArray<string | undefined>): PveError {
    const secrets = [
      ...secretsOf(this.connection),
      this.engine.ticket,
      this.engine.CSRFPreventionToken,
      ...extra,
    ];
    return err.mapText((text) => redactSecrets(text, secrets));
  }

  async doRequest(httpMethod: string, path: string, pathTemplate: string, params?: Params): Promise<unknown> {
    const method = httpMethod.toUpperCase();
    const ctx = { method, path: apiPathOf(path) };
    const clean = stripUndefined(params);
    // A container's root password is a request parameter; PVE may echo it in a parameter error.
    const extra = [typeof clean?.password === 'string' ? clean.password : undefined];
    const send = async (): Promise<unknown> => {
      try {
        await this.ensureLogin();
      } catch (err) {
        throw this.redact(classifyPveError(err), extra);
      }
      noteRequest();
      return this.engine.doRequest(method, path, pathTemplate, clean, NO_SILENT_RETRY) as Promise<unknown>;
    };
    try {
      return await send();
    } catch (err) {
      // A failed login is already classified and final.
      if (err instanceof PveError) throw err;
      const first = classifyPveError(err, ctx);
      if (first.kind !== 'unauthorized') throw this.redact(first, extra);
      this.reset();
      // A rejected ticket (expired after 2 h) means the request never ran: log in again and send it
      // once more. A token does not expire, so its 401 is final.
      if (this.connection.auth.kind === 'token') throw this.redact(first, extra);
      try {
        return await send();
      } catch (again) {
        throw this.redact(classifyPveError(again, ctx), extra);
      }
    }
  }
}
