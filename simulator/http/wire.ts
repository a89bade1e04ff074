// How PVE puts answers on the wire: the {"data": ...} envelope, the exact Content-Type, error text in
// both the reason phrase and the body, and 401s without a body.
import type { ServerResponse } from 'node:http';

/** Exactly PVE's header; proxmox-api parses JSON only for this string. */
export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

const COMMON_HEADERS = {
  'Cache-Control': 'max-age=0',
  Pragma: 'no-cache',
  Server: 'pve-api-daemon/3.0',
};

/** The reason phrase is the message's first line, with characters HTTP cannot carry replaced. */
export function reasonPhrase(message: string): string {
  const first = message.split('\n')[0] ?? '';
  return first.replace(/[^\t\x20-\x7e]/g, '?').slice(0, 512);
}

export function sendJson(res: ServerResponse, status: number, reason: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, reason, {
    ...COMMON_HEADERS,
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A 200 answer whose data is already JSON text. */
export function sendRawData(res: ServerResponse, dataJson: string): void {
  const text = `{"data":${dataJson}}`;
  res.writeHead(200, 'OK', {
    ...COMMON_HEADERS,
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendData(res: ServerResponse, data: unknown, total?: number): void {
  sendJson(res, 200, 'OK', total === undefined ? { data } : { data, total });
}

/** An error answer: `{"data":null,"errors":...?,"message":"...\n"}` (keys in PVE's canonical order). */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  errors?: Record<string, string>,
): void {
  const msg = message.endsWith('\n') ? message : `${message}\n`;
  const body = errors ? { data: null, errors, message: msg } : { data: null, message: msg };
  sendJson(res, status, reasonPhrase(message), body);
}

/** Authentication failures: status and reason phrase only, no body, no Content-Type. */
export function sendBare(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, reasonPhrase(reason), { ...COMMON_HEADERS, 'Content-Length': 0 });
  res.end();
}
