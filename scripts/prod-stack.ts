// `npm run stack:prod`: pve-autopilot on the production shape without Docker. PostgreSQL from the
// machine's packages, the self-hosted Temporal server (built once with Go) on it with the project's
// namespace and search attributes, pve-sim clusters, and N stateless workers sharing the task queues.
// Ctrl-C stops the workers, the server, pve-sim and PostgreSQL; the data stays in the data dir.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { startProdStack, type ProdStack } from './lib/prod-stack';
import type { selfCheckWorkflow } from '../workflows/self-check';
import { integer } from './lib/options';

const say = (line: string) => process.stdout.write(`[stack:prod] ${line}\n`);

const usage = `usage: npm run stack:prod -- [options]
  --workers N        worker processes (default 2)
  --clusters N       pve-sim clusters, each with its task queue and manager (default 1, at most 10)
  --temporal-port N  frontend gRPC port (default 7233; the server also binds N+10..N+30)
  --membership-port N  first of the server's 4 membership ports, under 32768 (default temporal port - 300)
  --pg-port N        PostgreSQL port on 127.0.0.1 (default 5433, clear of a system server on 5432)
  --metrics-port N   first worker's Prometheus port; worker i gets N+i-1 (default 9464)
  --sim-port N       first pve-sim's HTTPS port; cluster i gets N+i-1 (default 8006)
  --sim-scenario S   pve-sim scenario (default lab-2node)
  --sim-speed X      simulated seconds per wall second (default 10)
  --no-loops         do not start the generator and manager of each cluster
  --data-dir DIR     PostgreSQL data, server config, pve-sim state and logs (default .data-prod)`;

function options() {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '2' },
      clusters: { type: 'string', default: '1' },
      'temporal-port': { type: 'string', default: '7233' },
      'membership-port': { type: 'string' },
      'pg-port': { type: 'string', default: '5433' },
      'metrics-port': { type: 'string', default: '9464' },
      'sim-port': { type: 'string', default: '8006' },
      'sim-scenario': { type: 'string', default: 'lab-2node' },
      'sim-speed': { type: 'string', default: '10' },
      'no-loops': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: '.data-prod' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const simSpeed = Number(values['sim-speed']);
  if (!(simSpeed > 0 && simSpeed <= 1000)) {
    throw new Error(`--sim-speed: expected a number above 0 and at most 1000, got "${values['sim-speed']}"`);
  }
  return {
    workers: integer('workers', values.workers, 1, 16),
    clusters: integer('clusters', values.clusters, 1, 10),
    temporalPort: integer('temporal-port', values['temporal-port'], 1, 65_535 - 30),
    ...(values['membership-port'] === undefined
      ? {}
      : { membershipPort: integer('membership-port', values['membership-port'], 1, 32_764) }),
    pgPort: integer('pg-port', values['pg-port'], 1, 65_535),
    metricsPort: integer('metrics-port', values['metrics-port'], 1, 65_535),
    simPort: integer('sim-port', values['sim-port'], 1, 65_535),
    simScenario: values['sim-scenario'],
    simSpeed,
    loops: !values['no-loops'],
    dataDir: values['data-dir'],
  };
}

function runCli(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

let stack: ProdStack | undefined;
let stopping = false;

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping: workers, then the Temporal server, pve-sim and PostgreSQL (data is kept)');
  await stack?.stop();
  say('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const opts = options();
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  stack = await startProdStack({ ...opts, log: say });
  stack.onUnexpectedExit((child, code) => {
    if (stopping) return;
    say(`${child.name} exited unexpectedly (${code}); see ${stack?.logDir}`);
    void stopAll(1);
  });

  // One self-check per task queue proves that some worker serves each cluster.
  const client = new Client({ connection: stack.connection(), namespace: stack.namespace });
  for (const cluster of stack.clusters) {
    const check = await client.workflow.execute<typeof selfCheckWorkflow>('selfCheckWorkflow', {
      taskQueue: cluster.taskQueue,
      workflowId: `self-check-${cluster.name}-${new Date().toISOString()}`,
      workflowExecutionTimeout: '2 minutes',
    });
    say(`self-check on ${cluster.taskQueue} passed: worker ${check.worker.identity}`);
  }
  if (opts.loops) {
    for (const cluster of stack.clusters) {
      for (const loop of ['generator', 'manager']) {
        const result = await runCli(['--config', stack.configFile, '--cluster', cluster.name, loop, 'start']);
        if (result.code === 0) say(`${cluster.name}: ${loop} started`);
        else if (result.code === 3) say(`${cluster.name}: ${loop} already running (kept from the last run)`);
        else
          throw new Error(
            `pve-autopilot ${loop} start on ${cluster.name} failed (exit ${result.code}): ${result.output.trim()}`,
          );
      }
    }
  }
  say('ready');
  console.log(`\n${stack.describe()}\n  Press Ctrl-C to stop (data is kept in ${stack.dataDir}).\n`);
}

main().catch((err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  void stopAll(1);
});
