// Builds the undici fetch the Proxmox client uses: its own Agent trusting a CA file or a pinned
// certificate fingerprint, with timeouts. Nothing here touches process-wide TLS settings.

import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { normalizeFingerprint } from './config';

export type PveFetchFn = (
  input: string | URL,
  init?: Parameters<typeof undiciFetch>[1],
) => ReturnType<typeof undiciFetch>;

export interface PveTlsOptions {
  /** PEM text of the CA that signed the server certificate (PVE: /etc/pve/pve-root-ca.pem). */
  ca?: string | Buffer;
  /**
   * SHA-256 fingerprint of the server's leaf certificate (PVE GUI: node → Certificates). When set,
   * a self-signed or otherwise unverifiable certificate is accepted only if its fingerprint matches;
   * with `ca` as well, the chain must verify and the fingerprint must match.
   */
  fingerprint?: string;
  /** Connect, headers and body timeout for each request. */
  timeoutMs: number;
}

export interface PveFetch {
  fetch: PveFetchFn;
  /** Closes the agent's sockets (tests, worker shutdown). */
  close(): Promise<void>;
}

/** Raised from the connector when the peer certificate does not carry the pinned fingerprint. */
export class FingerprintMismatchError extends Error {
  override readonly name = 'FingerprintMismatchError';
  readonly code = 'ERR_PVE_FINGERPRINT_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      `server certificate fingerprint ${actual ?? '(none)'} does not match the pinned fingerprint ${expected}`,
    );
  }
}

function pinnedConnector(fingerprint: string, base: buildConnector.BuildOptions): buildConnector.connector {
  const pin = normalizeFingerprint(fingerprint);
  // No TLS session cache: a resumed session must not skip the certificate check below.
  const connect = buildConnector({ ...base, maxCachedSessions: 0 });
  return (options, callback) => {
    connect(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('TLS connect failed'), null);
        return;
      }
      // The connector calls back on 'secureConnect', before undici writes the request, so a
      // mismatched server never sees the Authorization header.
      const peer = 'getPeerCertificate' in socket ? (socket as TLSSocket).getPeerCertificate() : undefined;
      const actual = peer?.fingerprint256 ? normalizeFingerprint(peer.fingerprint256) : undefined;
      if (actual !== pin) {
        socket.destroy();
        callback(new FingerprintMismatchError(pin, actual), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** A fetch bound to its own Agent; verification is on in every branch. */
export function createPveFetch(options: PveTlsOptions): PveFetch {
  const base: buildConnector.BuildOptions = {
    timeout: options.timeoutMs,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    // Without a CA, a pinned fingerprint replaces chain and host-name checks (PVE's default
    // certificate is self-signed per cluster); without a pin, the chain must verify.
    rejectUnauthorized: options.fingerprint === undefined || options.ca !== undefined,
  };
  const agent = new Agent({
    connect: options.fingerprint !== undefined ? pinnedConnector(options.fingerprint, base) : base,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const fetch: PveFetchFn = (input, init) => undiciFetch(input, { ...init, dispatcher: agent });
  return { fetch, close: () => agent.close() };
}
