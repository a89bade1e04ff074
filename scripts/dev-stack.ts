// `npm start`: the whole stack on this machine. pve-sim (an embedded Proxmox VE cluster), the
// Temporal dev server (data kept in a file) with the project's search attributes, the worker, and a
// self-check workflow proving the round trip. Ctrl-C stops the worker, the server and the simulator,
// and leaves no process behind.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from './temporal-cli';
import { loadScenario, startSimulator, type RunningSim } from '../simulator/index';
import { startChild, stopChild, type Child } from './lib/child';
import { ensureWorkflowBundle } from './lib/workflow-bundle';
import { STACK_CONFIG_MARK, stackConfigText } from './lib/stack-config';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { ensureSearchAttributes } from '../src/temporal/search-attributes';
import { DEFAULT_TASK_QUEUE } from '../src/temporal/settings';
import type { selfCheckWorkflow } from '../workflows/self-check';

const say = (line: string) => process.stdout.write(`[dev-stack] ${line}\n`);

const usage = `usage: npm start -- [options]
  --temporal-port N  gRPC port of the Temporal dev server (default 7233, env TEMPORAL_PORT)
  --ui-port N        Web UI port (default 8233, env TEMPORAL_UI_PORT)
  --metrics-port N   worker Prometheus metrics port (default 9464, env METRICS_PORT)
  --data-dir DIR     Temporal database, pve-sim state and logs (default .data, env PVE_AUTOPILOT_DATA_DIR)
  --sim-port N       pve-sim HTTPS port (default 8006, env PVE_SIM_PORT)
  --sim-scenario S   pve-sim scenario: lab-2node, lab-2node-autoscale, zones-6node or fleet-large
                     (default lab-2node)
  --sim-speed X      simulated seconds per wall second (default 10)
  --no-sim           no pve-sim: the worker uses the Proxmox settings of pve-autopilot.yaml / PROXMOX_*`;

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
      'sim-port': { type: 'string', default: process.env.PVE_SIM_PORT ?? '8006' },
      'sim-scenario': { type: 'string', default: 'lab-2node' },
      'sim-speed': { type: 'string', default: '10' },
      'no-sim': { type: 'boolean', default: false },
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
    sim: values['no-sim']
      ? null
      : {
          port: parsePort('sim-port', values['sim-port']),
          scenario: values['sim-scenario'],
          speed: simSpeed,
        },
    temporalPort: parsePort('temporal-port', values['temporal-port']),
    uiPort: parsePort('ui-port', values['ui-port']),
    metricsPort: parsePort('metrics-port', values['metrics-port']),
    dataDir: resolve(values['data-dir']),
  };
}

// PVE_AUTOPILOT_CONFIG names the file the CLI and the worker read, so the stack writes that one.
const STACK_CONFIG = resolve(process.env.PVE_AUTOPILOT_CONFIG || 'pve-autopilot.yaml');

/**
 * Points pve-autopilot.yaml (what the CLI and the worker read by default) at the embedded stack, so
 * `pve-autopilot status` works without setup, with the scope, zones and generator settings of the
 * scenario it runs. Only a file this launcher wrote is rewritten; an operator's own file is left alone.
 */
async function writeStackConfig(
  sim: RunningSim,
  temporalAddress: string,
  uiUrl: string,
  scenario: string,
): Promise<void> {
  const existing = await readFile(STACK_CONFIG, 'utf8').catch(() => null);
  if (existing !== null && !existing.startsWith(STACK_CONFIG_MARK)) {
    say(
      `${STACK_CONFIG} is your own: the CLI uses it; the worker is pointed at pve-sim through its environment`,
    );
    return;
  }
  const text = stackConfigText(
    {
      temporalAddress,
      uiUrl,
      host: sim.host,
      port: sim.port,
      tokenId: sim.token.id,
      tokenSecret: sim.token.secret,
      caFile: sim.caFile,
    },
    // The seed startSimulator uses: the same containers, so the same managed range and loads.
    loadScenario(scenario, 1),
  );
  await writeFile(STACK_CONFIG, text, { mode: 0o600 });
}

/**
 * Runs a pve-autopilot command in this process (the CLI's own entry, as `npx pve-autopilot` runs
 * it) and returns its exit code and output: a second Node process per command would add its
 * start-up, seconds each, to every start.
 */
async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  // Loaded when first needed, while nothing else waits on this process.
  const { main: cliMain } = await import('../src/cli/main');
  let output = '';
  const out = { write: (text: string) => (output += text) };
  const code = await cliMain(args, { stdout: out, stderr: out, env });
  return { code, output };
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

const children: Child[] = [];
let sim: RunningSim | null = null;
let stopping = false;

/** Stops everything this launcher started, in reverse order, and exits. */
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping: worker first, then the Temporal server and pve-sim (data is kept)');
  for (const child of [...children].reverse()) await stopChild(child, 'SIGTERM', 15_000);
  await sim?.stop();
  say('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const opts = options();
  const logDir = join(opts.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const temporalCli = await ensureTemporalCli({ log: say });
  const address = `127.0.0.1:${opts.temporalPort}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
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
  // While the server opens its database: the workflow bundle (reused when the code is unchanged)
  // and pve-sim, none of which needs the other.
  const bundle = ensureWorkflowBundle(join(opts.dataDir, 'workflow-bundle'));
  const serverReady = waitForServer(address, uiUrl, server, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; see ${join(logDir, 'temporal-server.log')}`, { cause: err });
  });
  // Settled at once, so a failure while another step is awaited is no unhandled rejection.
  void bundle.catch(() => undefined);
  void serverReady.catch(() => undefined);

  let proxmoxEnv: NodeJS.ProcessEnv = {};
  if (opts.sim) {
    sim = await startSimulator({
      scenario: opts.sim.scenario,
      port: opts.sim.port,
      clock: { mode: 'realtime', speed: opts.sim.speed },
      dataDir: join(opts.dataDir, 'pve-sim'),
      stateFile: join(opts.dataDir, 'pve-sim', `${opts.sim.scenario}.state.json`),
      quiet: true,
    });
    say(`pve-sim ${opts.sim.scenario} (cluster ${sim.clusterName}) on ${sim.url}, clock x${opts.sim.speed}`);
    // The worker reaches pve-sim like any Proxmox: HTTPS verified against its CA, with an API token.
    await writeStackConfig(sim, address, uiUrl, opts.sim.scenario);
    proxmoxEnv = {
      PROXMOX_HOST: sim.host,
      PROXMOX_PORT: String(sim.port),
      PROXMOX_TOKEN_ID: sim.token.id,
      PROXMOX_TOKEN_SECRET: sim.token.secret,
      PROXMOX_CA_FILE: sim.caFile,
    };
  }

  const connection = await serverReady;
  const added = await ensureSearchAttributes(connection, 'default');
  if (added.length) say(`registered search attributes: ${added.join(', ')}`);
  const workflowBundle = await bundle;
  say(
    workflowBundle.built
      ? `built the workflow bundle in ${workflowBundle.seconds} s (kept for the next start)`
      : 'workflow code unchanged since the last start: its bundle is reused',
  );

  say('starting the worker');
  const worker = startChild('worker', process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    logFile: join(logDir, 'worker.log'),
    env: {
      ...process.env,
      ...proxmoxEnv,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
      METRICS_ADDRESS: `127.0.0.1:${opts.metricsPort}`,
      WORKFLOW_BUNDLE_PATH: workflowBundle.path,
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

  // The autonomic loop, started the way an operator starts it: through the CLI, from the config.
  const cliEnv = {
    ...process.env,
    ...proxmoxEnv,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
  };
  const loops = ['generator', 'manager'];
  const results = await Promise.all(loops.map((loop) => runCli([loop, 'start'], cliEnv)));
  loops.forEach((loop, i) => {
    const result = results[i] as { code: number; output: string };
    if (result.code === 0) say(`${loop} started`);
    else if (result.code === 3) say(`${loop} already running (kept from the last run)`);
    else throw new Error(`pve-autopilot ${loop} start failed (exit ${result.code}): ${result.output.trim()}`);
  });

  say('ready');
  console.log(`
  Temporal Web UI   ${uiUrl}${sim ? `\n  pve-sim           ${sim.url}/api2/json   (API token in ${sim.tokenFile}, CA ${sim.caFile})` : ''}
  Temporal gRPC     ${address}   namespace default, task queue ${DEFAULT_TASK_QUEUE}
  Worker metrics    http://127.0.0.1:${opts.metricsPort}/metrics
  Logs              ${logDir}
  Press Ctrl-C to stop (data is kept in ${opts.dataDir}).
`);
}

main().catch((err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  void stopAll(1);
});
