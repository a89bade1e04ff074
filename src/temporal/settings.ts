// How to reach Temporal: a local dev server, a self-hosted cluster with mTLS, or Temporal Cloud
// with an API key. Turned into connection options for the worker and for clients.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: { certFile?: string; keyFile?: string; caFile?: string; serverName?: string };
}

export const DEFAULT_TASK_QUEUE = 'pve-autopilot';

type TlsOptions = Exclude<ConnectionOptions['tls'], boolean | null | undefined>;

async function tlsOptions(settings: TemporalSettings): Promise<TlsOptions | boolean | undefined> {
  const tls = settings.tls;
  if (!tls) return settings.apiKey ? true : undefined; // Temporal Cloud API keys always ride on TLS
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new Error('temporal.tls: certFile and keyFile go together (mTLS needs both)');
  }
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(`temporal.tls.${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`, {
        cause: err,
      });
    }
  };
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile ? await read('caFile', tls.caFile) : undefined,
    clientCertPair:
      tls.certFile && tls.keyFile
        ? { crt: await read('certFile', tls.certFile), key: await read('keyFile', tls.keyFile) }
        : undefined,
  };
}

export async function clientConnectionOptions(settings: TemporalSettings): Promise<ConnectionOptions> {
  return { address: settings.address, tls: await tlsOptions(settings), apiKey: settings.apiKey };
}

export async function nativeConnectionOptions(settings: TemporalSettings): Promise<NativeConnectionOptions> {
  return { address: settings.address, tls: await tlsOptions(settings), apiKey: settings.apiKey };
}
