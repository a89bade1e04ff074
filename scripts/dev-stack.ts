// `npm start`: the whole stack on this machine. Temporal dev server (data kept in a file) with the
// project's search attributes, the worker, and a self-check workflow proving the round trip.
// Ctrl-C stops the worker, then the server, and leaves no process behind.
import { mkdir } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from './temporal-cli';
import { startChild, stopChild, type Child } from './lib/child';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { ensureSearchAttributes } from '../src/temporal/search-attributes';
import { DEFAULT_TASK_QUEUE } from '../src/temporal/settings';
import type { selfCheckWorkflow } from '../workflows/self-check';

const say = (line: string) => process.stdout.write(`[dev-stack] ${line}\n`);

const usage = `usage: npm start -- [--temporal-port N] [--ui-port N] [--data-dir DIR] [--metrics-port N]
  --temporal-port  gRPC port of the Temporal dev server (default 7233, env TEMPORAL_PORT)
  --ui-port        Web UI port (default 8233, env TEMPORAL_UI_PORT)
  --metrics-port   worker Prometheus metrics port (default 9464, env METRICS_PORT)
  --data-dir       where the Temporal database and logs live (default .data, env PVE_AUTOPILOT_DATA_DIR)`;

function parsePort(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`--${name}: expected a port number from 1 to 65535, got "${value}"`);
  }
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      'temporal-port': { type: 'string', default: process.env.TEMPORAL_PORT ?? '7233' },
      'ui-port': { type: 'string', default: process.env.TEMPORAL_UI_PORT ?? '8233' },
      'metrics-port': { type: 'string', default: process.env.METRICS_PORT ?? '9464' },
      'data-dir': { type: 'string', default: process.env.PVE_AUTOPILOT_DATA_DIR ?? '.data' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return {
    temporalPort: parsePort('temporal-port', values['temporal-port']),
    uiPort: parsePort('ui-port', values['ui-port']),
    metricsPort: parsePort('metrics-port', values['metrics-port']),
    dataDir: resolve(values['data-dir']),
  };
}

async function waitForServer(
  address: string,
  uiUrl: string,
  server: Child,
  timeoutMs: number,
): Promise<Connection> {
  const until = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < until) {
    if (server.process.exitCode !== null) break;
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.healthService.check({});
      const ui = await fetch(uiUrl, { signal: AbortSignal.timeout(2000) });
      if (ui.status === 200) return connection;
      lastError = `UI answered ${ui.status}`;
      await connection.close();
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the Temporal dev server did not become healthy (${lastError || 'it exited'})`);
}

async function main(): Promise<void> {
  const opts = options();
  const logDir = join(opts.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const temporalCli = await ensureTemporalCli({ log: say });
  const address = `127.0.0.1:${opts.temporalPort}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  const children: Child[] = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping: worker first, then the Temporal server (data is kept)');
    for (const child of [...children].reverse()) await stopChild(child, 'SIGTERM', 15_000);
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  say(`starting the Temporal dev server on ${address} (database ${join(opts.dataDir, 'temporal.db')})`);
  const server = startChild(
    'temporal',
    temporalCli,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(opts.temporalPort),
      '--ui-port',
      String(opts.uiPort),
      '--db-filename',
      join(opts.dataDir, 'temporal.db'),
      '--log-level',
      'warn',
      ...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
    ],
    { logFile: join(logDir, 'temporal-server.log') },
  );
  children.push(server);
  const connection = await waitForServer(address, uiUrl, server, 60_000).catch(async (err: Error) => {
    say(`${err.message}; see ${join(logDir, 'temporal-server.log')}`);
    await stopAll(1);
    throw err;
  });
  const added = await ensureSearchAttributes(connection, 'default');
  if (added.length) say(`registered search attributes: ${added.join(', ')}`);

  say('starting the worker');
  const worker = startChild('worker', process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    logFile: join(logDir, 'worker.log'),
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
      METRICS_ADDRESS: `127.0.0.1:${opts.metricsPort}`,
    },
  });
  children.push(worker);

  for (const child of children) {
    void child.exited.then((code) => {
      if (stopping) return;
      say(
        `${child.name} exited unexpectedly (${code}); see ${join(logDir, `${child.name === 'temporal' ? 'temporal-server' : child.name}.log`)}`,
      );
      void stopAll(1);
    });
  }

  const client = new Client({ connection, namespace: 'default' });
  const check = await client.workflow.execute<typeof selfCheckWorkflow>('selfCheckWorkflow', {
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowId: `self-check-${new Date().toISOString()}`,
    workflowExecutionTimeout: '2 minutes',
  });
  say(
    `self-check passed: worker ${check.worker.identity} (SDK ${check.worker.sdkVersion}) runs workflows and activities`,
  );

  say('ready');
  console.log(`
  Temporal Web UI   ${uiUrl}
  Temporal gRPC     ${address}   namespace default, task queue ${DEFAULT_TASK_QUEUE}
  Worker metrics    http://127.0.0.1:${opts.metricsPort}/metrics
  Logs              ${logDir}
  Press Ctrl-C to stop (data is kept in ${opts.dataDir}).
`);
}

main().catch((err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
