// In-memory stand-ins for the PVE HTTP API, used by the unit tests: a fetch that answers from a
// handler, and answers shaped like real PVE (exact Content-Type, reason phrase = first message line).

import { Response } from 'undici';
import type { PveFetchFn } from '../../../src/proxmox/tls';

export interface SeenRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: URLSearchParams;
}

export type Handler = (req: SeenRequest) => Response | Promise<Response>;

export const PVE_JSON = 'application/json;charset=UTF-8';

export function pveOk(data: unknown): Response {
  return new Response(JSON.stringify({ data }), { status: 200, headers: { 'content-type': PVE_JSON } });
}

/** A PVE error answer: the reason phrase is the message's first line, the body repeats it. */
export function pveFail(status: number, message: string, errors?: Record<string, string>): Response {
  const body: Record<string, unknown> = { data: null, message: `${message}\n` };
  if (errors) body.errors = errors;
  return new Response(JSON.stringify(body), {
    status,
    statusText: message.split('\n')[0],
    headers: { 'content-type': PVE_JSON },
  });
}

/** PVE's authentication failures: no body, no Content-Type. */
export function pveBare(status: number, reason: string): Response {
  return new Response(null, { status, statusText: reason });
}

export function fakeFetch(handler: Handler): { fetch: PveFetchFn; requests: SeenRequest[] } {
  const requests: SeenRequest[] = [];
  const fetch: PveFetchFn = async (input, init) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>))
      headers[k.toLowerCase()] = v;
    const req: SeenRequest = {
      method: (init?.method ?? 'GET').toUpperCase(),
      url: new URL(String(input)),
      headers,
      body: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
    };
    requests.push(req);
    return handler(req);
  };
  return { fetch, requests };
}

/** The error undici's fetch throws for a socket-level failure. */
export function networkError(code: string, message = `connect ${code} 10.0.0.1:8006`): TypeError {
  const cause = Object.assign(new Error(message), { code });
  return new TypeError('fetch failed', { cause });
}

export const TOKEN = {
  tokenId: 'root@pam!autopilot',
  tokenSecret: '0badc0de-1234-4abc-8def-0123456789ab',
};
