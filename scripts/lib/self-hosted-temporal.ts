// The self-hosted Temporal server of the production-shaped stack: its config (the module's
// development-postgres12.yaml adapted: ports, the stack's PostgreSQL, no archival), its schema set up
// with the SQL tool from the module's schema files, the process, and the `default` namespace with the
// project's search attributes.
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { parse, stringify } from 'yaml';
import type { TemporalServerFiles } from '../temporal-server';
import type { PostgresCluster } from './postgres';
import { startChild, type Child } from './child';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';

const run = promisify(execFile);

type Log = (line: string) => void;

/** Temporal keeps membership (ringpop) ports in a smallint column: they must stay under 32768. */
export const MAX_MEMBERSHIP_PORT = 32_767 - 3;

/**
 * Every port the server binds, derived from the frontend's so several stacks can share a machine:
 * frontend gRPC P, its HTTP API P+10 (7243 for 7233, as upstream), history/matching/worker gRPC
 * P+11..P+13, Prometheus metrics P+30, and the membership ports M..M+3 (6933.. for the default
 * P-300; give M explicitly when P-300 is past MAX_MEMBERSHIP_PORT).
 */
export function serverPorts(frontend: number, membershipBase = frontend - 300) {
  return {
    frontend,
    frontendHttp: frontend + 10,
    history: frontend + 11,
    matching: frontend + 12,
    worker: frontend + 13,
    membership: {
      frontend: membershipBase,
      history: membershipBase + 1,
      matching: membershipBase + 2,
      worker: membershipBase + 3,
    },
    metrics: frontend + 30,
  };
}

export interface ServerLayout {
  /** --root of the server: config/ lives under it. */
  root: string;
  configFile: string;
  dynamicConfigFile: string;
  schemaMarker: string;
}

export function serverLayout(dir: string): ServerLayout {
  return {
    root: dir,
    configFile: join(dir, 'config', 'production.yaml'),
    dynamicConfigFile: join(dir, 'config', 'dynamicconfig.yaml'),
    schemaMarker: join(dir, 'schema-set-up'),
  };
}

type Yaml = Record<string, unknown>;
const at = (o: unknown, ...keys: string[]): Yaml => {
  let here = o as Yaml;
  for (const k of keys) here = here[k] as Yaml;
  return here;
};

/** Writes production.yaml and the dynamic config from the module's templates. */
export async function writeServerConfig(
  files: TemporalServerFiles,
  layout: ServerLayout,
  pg: PostgresCluster,
  ports: ReturnType<typeof serverPorts>,
): Promise<void> {
  const frontendPort = ports.frontend;
  const config = parse(await readFile(files.configTemplate, 'utf8')) as Yaml;
  at(config, 'log').level = 'warn';
  for (const store of ['postgres-default', 'postgres-visibility']) {
    const sql = at(config, 'persistence', 'datastores', store, 'sql');
    sql.connectAddr = `127.0.0.1:${pg.port}`;
    sql.user = pg.user;
    sql.password = pg.password;
  }
  const global = at(config, 'global');
  delete global.pprof; // a fixed debug port (7936) would clash between stacks and is not needed
  at(global, 'metrics', 'prometheus').listenAddress = `127.0.0.1:${ports.metrics}`;
  for (const service of ['frontend', 'history', 'matching', 'worker'] as const) {
    const rpc = at(config, 'services', service, 'rpc');
    rpc.grpcPort = ports[service];
    rpc.membershipPort = ports.membership[service];
    if (service === 'frontend') rpc.httpPort = ports.frontendHttp;
  }
  at(config, 'clusterMetadata', 'clusterInformation', 'active').rpcAddress = `127.0.0.1:${frontendPort}`;
  // The template archives to /tmp; this stack keeps history in PostgreSQL only.
  const off = { history: { state: 'disabled' }, visibility: { state: 'disabled' } };
  config.archival = off;
  config.namespaceDefaults = { archival: off };
  at(config, 'dynamicConfigClient').filepath = layout.dynamicConfigFile;

  // The template's Nexus callback URL names the default HTTP port.
  const dynamic = (await readFile(files.dynamicConfigTemplate, 'utf8')).replace(
    'http://localhost:7243/',
    `http://127.0.0.1:${ports.frontendHttp}/`,
  );
  await mkdir(join(layout.root, 'config'), { recursive: true });
  await writeFile(layout.configFile, stringify(config), { mode: 0o600 }); // holds the DB password
  await writeFile(layout.dynamicConfigFile, dynamic);
}

async function sqlTool(files: TemporalServerFiles, pg: PostgresCluster, db: string, args: string[]) {
  try {
    await run(
      files.sqlTool,
      [
        '--plugin',
        'postgres12',
        '--ep',
        '127.0.0.1',
        '-p',
        String(pg.port),
        '-u',
        pg.user,
        '--db',
        db,
        ...args,
      ],
      // The password goes through the environment, not argv (which `ps` shows).
      { env: { ...process.env, SQL_PASSWORD: pg.password }, timeout: 300_000 },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `temporal-sql-tool ${args[0]} on ${db} failed: ${(e.stderr || e.stdout || e.message).trim()}`,
      { cause: err },
    );
  }
}

/**
 * Creates the two databases and their schemas on first use; on every start applies the versioned
 * updates the binaries ship with (a no-op when current, the upgrade path after a version bump).
 */
export async function setupSchema(
  files: TemporalServerFiles,
  layout: ServerLayout,
  pg: PostgresCluster,
  log: Log,
): Promise<void> {
  const databases = [
    { db: 'temporal', dir: join(files.schemaDir, 'temporal', 'versioned') },
    { db: 'temporal_visibility', dir: join(files.schemaDir, 'visibility', 'versioned') },
  ];
  const fresh = !(await stat(layout.schemaMarker).catch(() => null));
  for (const { db, dir } of databases) {
    if (fresh) {
      log(`creating database ${db} and its schema (temporal-sql-tool, ${dir})`);
      await sqlTool(files, pg, db, ['create-database']);
      await sqlTool(files, pg, db, ['setup-schema', '-v', '0.0']);
    }
    await sqlTool(files, pg, db, ['update-schema', '-d', dir]);
  }
  if (fresh) await writeFile(layout.schemaMarker, `${new Date().toISOString()}\n`);
}

export function startServer(files: TemporalServerFiles, layout: ServerLayout, logFile: string): Child {
  return startChild(
    'temporal-server',
    files.server,
    ['--root', layout.root, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
    { logFile },
  );
}

/** Waits for the frontend's health check; fails early when the process exits. */
export async function waitForFrontend(
  address: string,
  server: Child,
  timeoutMs: number,
): Promise<Connection> {
  const until = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < until) {
    if (server.process.exitCode !== null || server.process.signalCode !== null) {
      throw new Error(`the Temporal server exited (${server.process.exitCode ?? server.process.signalCode})`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.healthService.check({});
      return connection;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the Temporal server did not become healthy at ${address} (${lastError})`);
}

const NOT_FOUND = 5;

/**
 * Registers the namespace when missing, waits until the frontend serves it (its namespace cache
 * refreshes every few seconds), and registers the search attributes. Returns what it did.
 */
export async function ensureNamespace(connection: Connection, namespace: string): Promise<string[]> {
  const did: string[] = [];
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_FOUND) throw err;
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('7 days'),
    });
    did.push(`registered namespace ${namespace} (retention 7 days)`);
  }
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace });
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== NOT_FOUND || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const added = await ensureSearchAttributes(connection, namespace);
  if (added.length) did.push(`registered search attributes ${added.join(', ')}`);
  return did;
}
