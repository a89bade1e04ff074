// The production-shaped stack, as a library for `npm run stack:prod`, `npm run test:prod` and
// `npm run bench:fleet`: PostgreSQL (packaged binaries, private data dir), the self-hosted Temporal
// server on it, and optionally pve-sim clusters and N worker processes. Everything it starts it can
// restart (the server-restart tests) and stop, keeping the data.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Connection } from '@temporalio/client';
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION, type TemporalServerFiles } from '../temporal-server';
import { startSimulator, type RunningSim } from '../../simulator/index';
import { startChild, stopChild, type Child } from './child';
import {
  preparePostgres,
  startPostgres,
  stopPostgres,
  isPostgresRunning,
  type PostgresCluster,
} from './postgres';
import {
  ensureNamespace,
  MAX_MEMBERSHIP_PORT,
  serverLayout,
  serverPorts,
  setupSchema,
  startServer,
  waitForFrontend,
  writeServerConfig,
  type ServerLayout,
} from './self-hosted-temporal';
import { DEFAULT_TASK_QUEUE } from '../../src/temporal/settings';

type Log = (line: string) => void;

export interface ProdStackOptions {
  dataDir: string;
  temporalPort: number;
  /** First of the server's four membership ports (under 32768); default temporalPort - 300. */
  membershipPort?: number;
  pgPort: number;
  /** Worker i (from 1) serves Prometheus metrics on metricsPort + i - 1. */
  metricsPort: number;
  /** pve-sim cluster i (from 1) listens on simPort + i - 1. */
  simPort: number;
  /** pve-sim clusters to start; 0 = none (the workers then use the config's Proxmox). */
  clusters: number;
  simScenario: string;
  simSpeed: number;
  workers: number;
  namespace?: string;
  log: Log;
}

export interface SimCluster {
  name: string;
  taskQueue: string;
  sim: RunningSim;
}

export interface ProdStack {
  address: string;
  namespace: string;
  dataDir: string;
  logDir: string;
  configFile: string;
  pg: PostgresCluster;
  files: TemporalServerFiles;
  layout: ServerLayout;
  clusters: SimCluster[];
  workers: Child[];
  server(): Child;
  connection(): Connection;
  /** SIGTERM the server process and start it again on the same data. */
  restartTemporal(): Promise<void>;
  /** pg_ctl stop -m fast, then start: the server loses every connection meanwhile. */
  restartPostgres(downMs?: number): Promise<void>;
  /** Called once per child that exits while the stack did not stop it. */
  onUnexpectedExit(handler: (child: Child, code: number | string) => void): void;
  stop(): Promise<void>;
  /** Where everything is, for the console. */
  describe(): string;
}

export const CLUSTER_NAMES = [
  'pve1',
  'pve2',
  'pve3',
  'pve4',
  'pve5',
  'pve6',
  'pve7',
  'pve8',
  'pve9',
  'pve10',
];

/** One cluster keeps today's names (cluster `pve`, queue `pve-autopilot`); several get their own. */
function simClusterNames(n: number): Array<{ name: string; taskQueue: string }> {
  if (n === 1) return [{ name: 'pve', taskQueue: DEFAULT_TASK_QUEUE }];
  return Array.from({ length: n }, (_, i) => {
    const name = CLUSTER_NAMES[i] ?? `pve${i + 1}`;
    return { name, taskQueue: `${DEFAULT_TASK_QUEUE}-${name}` };
  });
}

/** The config the workers and the CLI read: today's single-cluster shape, or a `clusters:` list. */
function configText(address: string, namespace: string, clusters: SimCluster[]): string {
  const proxmox = (sim: RunningSim, indent: string) =>
    [
      `${indent}host: ${sim.host}`,
      `${indent}port: ${sim.port}`,
      `${indent}tokenId: ${sim.token.id}`,
      `${indent}tokenSecret: ${sim.token.secret}`,
      `${indent}caFile: ${sim.caFile}`,
    ].join('\n');
  const head = [
    '# Written by `npm run stack:prod` for its pve-sim clusters and self-hosted Temporal server.',
    'temporal:',
    `  address: ${address}`,
    `  namespace: ${namespace}`,
  ];
  const [only] = clusters;
  if (clusters.length === 1 && only) {
    return [...head, 'proxmox:', proxmox(only.sim, '  '), ''].join('\n');
  }
  const entries = clusters.map((c) =>
    [`  - name: ${c.name}`, `    taskQueue: ${c.taskQueue}`, '    proxmox:', proxmox(c.sim, '      ')].join(
      '\n',
    ),
  );
  return [...head, 'clusters:', ...entries, ''].join('\n');
}

export async function startProdStack(opts: ProdStackOptions): Promise<ProdStack> {
  const log = opts.log;
  const dataDir = resolve(opts.dataDir);
  const logDir = join(dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const namespace = opts.namespace ?? 'default';
  const address = `127.0.0.1:${opts.temporalPort}`;
  const ports = serverPorts(opts.temporalPort, opts.membershipPort);
  if (ports.membership.frontend < 1 || ports.membership.frontend > MAX_MEMBERSHIP_PORT) {
    throw new Error(
      `the Temporal server's membership ports must lie under 32768 (it stores them in a smallint); ` +
        `${ports.membership.frontend} is not: give --membership-port N (1..${MAX_MEMBERSHIP_PORT})`,
    );
  }
  const files = await ensureTemporalServer({ log });

  const pg = await preparePostgres({
    dataDir: join(dataDir, 'postgres'),
    passwordFile: join(dataDir, 'postgres-password'),
    logFile: join(logDir, 'postgres.log'),
    port: opts.pgPort,
    log,
  });
  const children: Child[] = [];
  const sims: SimCluster[] = [];
  const expected = new Set<Child>();
  const exitHandlers: Array<(child: Child, code: number | string) => void> = [];
  const watch = (child: Child) => {
    void child.exited.then((code) => {
      if (!expected.has(child)) for (const h of exitHandlers) h(child, code);
    });
  };
  let server: Child | undefined;
  let connection: Connection | undefined;
  let pgStarted = false;
  // Read through a function: TypeScript cannot see that launch() assigned it.
  const currentConnection = async (): Promise<Connection> => connection as Connection;

  const stop = async () => {
    for (const child of [...children].reverse()) {
      expected.add(child);
      await stopChild(child, 'SIGTERM', 15_000);
    }
    if (server) {
      expected.add(server);
      await stopChild(server, 'SIGTERM', 20_000);
    }
    await connection?.close().catch(() => undefined);
    for (const s of sims) await s.sim.stop();
    if (pgStarted) await stopPostgres(pg);
  };

  try {
    if (await isPostgresRunning(pg)) {
      throw new Error(
        `PostgreSQL already runs on ${pg.dataDir} (postmaster.pid is there): another stack uses this data dir, ` +
          `or one was killed; stop it with \`pg_ctl stop -D ${pg.dataDir}\` (as the postgres user when root)`,
      );
    }
    log(`starting PostgreSQL on 127.0.0.1:${pg.port} (data ${pg.dataDir})`);
    await startPostgres(pg);
    pgStarted = true;
    const layout = serverLayout(join(dataDir, 'temporal'));
    await writeServerConfig(files, layout, pg, ports);
    await setupSchema(files, layout, pg, log);

    const serverLog = join(logDir, 'temporal-server.log');
    const launch = async () => {
      log(`starting the Temporal server v${TEMPORAL_SERVER_VERSION} on ${address} (log ${serverLog})`);
      const child = startServer(files, layout, serverLog);
      watch(child);
      server = child;
      connection = await waitForFrontend(address, child, 120_000).catch((err: Error) => {
        throw new Error(`${err.message}; see ${serverLog}`, { cause: err });
      });
    };
    await launch();
    for (const did of await ensureNamespace(await currentConnection(), namespace)) log(did);

    const names = simClusterNames(opts.clusters);
    for (const [i, c] of names.entries()) {
      const sim = await startSimulator({
        scenario: opts.simScenario,
        port: opts.simPort + i,
        clock: { mode: 'realtime', speed: opts.simSpeed },
        dataDir: join(dataDir, 'pve-sim', c.name),
        stateFile: join(dataDir, 'pve-sim', c.name, `${opts.simScenario}.state.json`),
        quiet: true,
      });
      sims.push({ ...c, sim });
      log(`pve-sim ${opts.simScenario} as cluster ${c.name} on ${sim.url} (task queue ${c.taskQueue})`);
    }
    const configFile = join(dataDir, 'pve-autopilot.yaml');
    if (sims.length > 0) await writeFile(configFile, configText(address, namespace, sims), { mode: 0o600 });

    for (let i = 1; i <= opts.workers; i++) {
      const worker = startChild(`worker-${i}`, process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
        logFile: join(logDir, `worker-${i}.log`),
        env: {
          ...process.env,
          ...(sims.length > 0 ? { PVE_AUTOPILOT_CONFIG: configFile } : {}),
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: namespace,
          METRICS_ADDRESS: `127.0.0.1:${opts.metricsPort + i - 1}`,
        },
      });
      watch(worker);
      children.push(worker);
    }

    const stack: ProdStack = {
      address,
      namespace,
      dataDir,
      logDir,
      configFile,
      pg,
      files,
      layout,
      clusters: sims,
      workers: children,
      server: () => server as Child,
      connection: () => connection as Connection,
      async restartTemporal() {
        const old = server as Child;
        expected.add(old);
        await stopChild(old, 'SIGTERM', 20_000);
        await connection?.close().catch(() => undefined);
        await launch();
      },
      async restartPostgres(downMs = 2000) {
        await stopPostgres(pg);
        await new Promise((r) => setTimeout(r, downMs));
        await startPostgres(pg);
      },
      onUnexpectedExit(handler) {
        exitHandlers.push(handler);
      },
      stop,
      describe() {
        const lines = [
          `  Temporal gRPC     ${address}   namespace ${namespace}   (server v${TEMPORAL_SERVER_VERSION}, ${files.server})`,
          `  Temporal config   ${layout.configFile}`,
          `  Server metrics    http://127.0.0.1:${ports.metrics}/metrics`,
          `  PostgreSQL        127.0.0.1:${pg.port}   user ${pg.user}, password in ${join(dataDir, 'postgres-password')}, data ${pg.dataDir}`,
          '  Web UI            not started: the Temporal CLI bundles its UI only inside `temporal server start-dev`,',
          '                    which cannot point it at another server; docker-compose.yml runs temporalio/ui.',
        ];
        for (const c of sims) {
          lines.push(`  pve-sim ${c.name.padEnd(9)} ${c.sim.url}/api2/json   task queue ${c.taskQueue}`);
        }
        children.forEach((w, i) =>
          lines.push(
            `  ${w.name.padEnd(17)} pid ${w.process.pid}, metrics http://127.0.0.1:${opts.metricsPort + i}/metrics`,
          ),
        );
        if (sims.length > 0)
          lines.push(`  Config            ${configFile}   (npm run cli -- --config ${configFile} ...)`);
        lines.push(`  Logs              ${logDir}`);
        return lines.join('\n');
      },
    };
    return stack;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
