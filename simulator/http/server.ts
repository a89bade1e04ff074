// The HTTP(S) front: routes /api2/json to the PVE handlers in pveproxy's order (faults, auth, 501,
// permissions, proxy to the node, parameter verification, handler) and /_sim/ to the admin API.
import { readFileSync } from 'node:fs';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { ApiContext, Handler } from '../api/context.js';
import { RawJson, WithTotal } from '../api/context.js';
import { buildRoutes } from '../api/routes.js';
import { PveError } from '../errors.js';
import type { Sim } from '../sim.js';
import type { Principal } from './auth.js';
import { parseParams, readBody } from './params.js';
import { verifyParams, type MethodParams } from './schema-check.js';
import { sendBare, sendData, sendError, sendRawData } from './wire.js';

interface MethodSchema {
  proxyto: string | null;
  permissions: { check?: unknown[]; user?: string };
  parameters: MethodParams;
}

export const API_SCHEMA = JSON.parse(
  readFileSync(new URL('../schema/pve-api.json', import.meta.url), 'utf8'),
) as Record<string, MethodSchema>;

const BASE = '/api2/json';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, path: string, body: string) => void;

export interface ServerOptions {
  sim: Sim;
  tls?: { key: string; cert: string };
  fingerprint: string;
  admin: AdminHandler;
}

export interface SimServer {
  server: Server;
  /** Ends hung requests (fault `hang`) so the server can close. */
  releaseHung(): void;
}

export function createSimServer(opts: ServerOptions): SimServer {
  const routes = buildRoutes();
  const hung = new Set<ServerResponse>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, err instanceof Error ? err.message : String(err));
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = method === 'POST' || method === 'PUT' || method === 'DELETE' ? await readBody(req) : '';
    if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim')
      return opts.admin(req, res, url.pathname, body);
    if (!url.pathname.startsWith(`${BASE}/`) && url.pathname !== BASE)
      return sendBare(res, 501, 'no such uri');
    const sim = opts.sim;
    sim.world.sync();
    const path = url.pathname.slice(BASE.length).replace(/\/+$/, '') || '/';
    const { hit, template } = routes.match(method, path);
    sim.world.count(`${method} ${template ?? path}`);

    const fault = sim.world.faults.http(method, template ?? path, path);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.hang) {
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (fault.fail) return sendError(res, fault.fail.status, fault.fail.message);

    const schema = hit ? API_SCHEMA[`${method} ${hit.template}`] : undefined;
    const open = schema?.permissions.user === 'world';
    let principal: Principal | null = null;
    if (!open) {
      const auth = sim.auth.authenticate(req.headers, method);
      if (!auth.ok) {
        await unauthorizedDelay(sim);
        return sendBare(res, 401, auth.reason);
      }
      principal = auth.principal;
    }
    if (!hit || !schema) return sendError(res, 501, `Method '${method} ${path}' not implemented`);

    try {
      const raw = { ...parseParams(url.searchParams, body, req.headers['content-type']), ...hit.pathParams };
      if (principal) checkPermission(sim, principal, schema, raw);
      if (schema.proxyto === 'node' && raw.node !== undefined) {
        const node = sim.world.cluster.node(raw.node);
        // A request for another node is proxied by pveproxy; an offline node cannot answer.
        if (!node.online) return sendError(res, 595, 'No route to host');
      }
      const params = verifyParams(raw, schema.parameters);
      // Re-sync: a fault's latency may have let simulated time move on.
      sim.world.sync();
      if (method !== 'GET') sim.world.touch();
      const ctx: ApiContext = {
        world: sim.world,
        ops: sim.ops,
        auth: sim.auth,
        params,
        principal,
        fingerprint: opts.fingerprint,
      };
      const result = (hit.route as Handler)(ctx);
      if (result instanceof WithTotal) return sendData(res, result.data, result.total);
      if (result instanceof RawJson) return sendRawData(res, result.json);
      return sendData(res, result ?? null);
    } catch (err) {
      if (!(err instanceof PveError)) throw err;
      if (err.status === 401) await unauthorizedDelay(sim);
      return sendError(res, err.status, err.message, err.errors);
    }
  }

  const server = opts.tls
    ? createHttps({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : createHttp(handler);
  server.keepAliveTimeout = 5000;
  return {
    server,
    releaseHung: () => {
      for (const res of hung) res.socket?.destroy();
      hung.clear();
    },
  };
}

/** The schema's `check`: ["perm", path, [privs], "any", 1]; other forms are left to the handler. */
function checkPermission(
  sim: Sim,
  principal: Principal,
  schema: MethodSchema,
  raw: Record<string, string>,
): void {
  const check = schema.permissions.check;
  // With `user: all` beside a check, the handler decides what the caller sees (GET /cluster/options).
  if (!check || check[0] !== 'perm' || schema.permissions.user === 'all') return;
  const path = String(check[1]).replace(/\{(\w+)\}/g, (_, k: string) => raw[k] ?? '');
  const privs = (check[2] as string[]) ?? [];
  const any = check[3] === 'any';
  if (!sim.auth.has(principal, privs, any)) {
    throw new PveError(
      403,
      `Permission check failed (${path}, ${any ? privs.join('|') : privs.find((p) => !sim.auth.has(principal, [p], false))})`,
    );
  }
}

const UNAUTHORIZED_DELAY_MS = 3000;

/**
 * pveproxy delays every 401 (a failed login too) by 3 s against password guessing. Simulated
 * seconds here, so a fast clock waits less; a manual clock does not wait (nothing would wake it).
 */
function unauthorizedDelay(sim: Sim): Promise<void> {
  const speed = sim.clockMode.mode === 'realtime' ? sim.clockMode.speed : 0;
  return speed > 0 ? sleep(UNAUTHORIZED_DELAY_MS / speed) : Promise.resolve();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
