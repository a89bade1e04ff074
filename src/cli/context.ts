// What a command runs with: the loaded config, and the Proxmox and Temporal clients built from it
// on first use, so `config validate` needs neither and `status` works with Proxmox alone.
import { Client, Connection, isGrpcServiceError, ServiceError } from '@temporalio/client';
import { clusterConnectionOf, loadConfig, selectCluster, type Config } from '../config';
import { createPveClient, type PveClient } from '../proxmox';
import { clientConnectionOptions } from '../temporal/settings';
import type { GlobalOptions } from './args';
import { CliError, ExitCode } from './exit-codes';
import type { Io } from './output';

export interface Context {
  io: Io;
  global: GlobalOptions;
  config: Config;
  /** cluster.name: names the workflows of this cluster. */
  cluster: string;
  pve(): PveClient;
  temporal(): Promise<Client>;
  workflowUrl(workflowId: string): string;
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

export async function createContext(global: GlobalOptions, io: Io): Promise<Context> {
  const loaded = await loadConfig({
    ...(global.config === undefined ? {} : { path: global.config }),
    env: io.env,
  });
  // Every command acts on one cluster: its own config, task queue and workflow ids.
  const selected = selectCluster(loaded, global.cluster);
  const { config } = selected;
  let pve: PveClient | undefined;
  let connection: Connection | undefined;
  let client: Client | undefined;
  const { address, namespace } = config.temporal;

  return {
    io,
    global,
    config,
    cluster: config.cluster.name,
    pve() {
      pve ??= createPveClient(clusterConnectionOf(selected));
      return pve;
    },
    async temporal() {
      if (client !== undefined) return client;
      const options = await clientConnectionOptions(config.temporal).catch((err: unknown) => {
        throw new CliError(ExitCode.usage, `config error: ${(err as Error).message}`);
      });
      try {
        connection = await Connection.connect({ ...options, connectTimeout: connectTimeoutMs(io.env) });
      } catch (err) {
        throw temporalUnreachable(address, namespace, err);
      }
      client = new Client({ connection, namespace });
      return client;
    },
    workflowUrl: (workflowId) => workflowUrl(config, io.env, workflowId),
    async close() {
      await pve?.close();
      await connection?.close();
    },
  };
}

function connectTimeoutMs(env: Io['env']): number {
  const text = env.TEMPORAL_CONNECT_TIMEOUT_MS;
  const ms = text === undefined || text === '' ? NaN : Number(text);
  return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_CONNECT_TIMEOUT_MS;
}

export function temporalUnreachable(address: string, namespace: string, err: unknown): CliError {
  const why = err instanceof Error ? err.message : String(err);
  return new CliError(
    ExitCode.unreachable,
    `Temporal is unreachable at ${address} (namespace ${namespace}): ${why}. Is the server running? ` +
      '`npm start` runs a local one; TEMPORAL_ADDRESS or temporal.address points at another.',
  );
}

/** A call to a connected server that failed because the server went away. */
export function isTemporalUnavailable(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && (grpc.code === GRPC_UNAVAILABLE || grpc.code === GRPC_DEADLINE_EXCEEDED);
}

/**
 * The Web UI page of a workflow. TEMPORAL_UI_URL names the UI's base, else temporal.uiUrl (which
 * `npm start` writes); otherwise the UI is assumed on the Temporal host at port 8233 (the dev
 * server's), or Temporal Cloud's when an API key is set.
 */
export function workflowUrl(config: Config, env: Io['env'], workflowId: string): string {
  const { address, namespace, apiKey, uiUrl } = config.temporal;
  const configured = env.TEMPORAL_UI_URL || uiUrl;
  let base: string;
  if (configured !== undefined && configured !== '') base = configured.replace(/\/+$/, '');
  else if (apiKey !== undefined) base = 'https://cloud.temporal.io';
  else base = `http://${address.replace(/:\d+$/, '')}:8233`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
