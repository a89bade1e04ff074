// Reads a request's parameters as PVE does: query string, plus a form-urlencoded or JSON body.
import type { IncomingMessage } from 'node:http';
import { PveError } from '../errors.js';

const MAX_BODY = 64 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new PveError(413, 'request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parameters as strings (booleans as 1/0), the form every PVE handler sees before verification. */
export function parseParams(
  query: URLSearchParams,
  body: string,
  contentType: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) out[k] = v;
  if (!body) return out;
  if ((contentType ?? '').startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new PveError(400, 'Parameter verification failed.', { body: 'unable to parse JSON body' });
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        out[k] =
          typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}
