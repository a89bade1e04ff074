// The real worker entry (worker/main.ts) as a child process, pointed at the test Temporal server and
// a test pve-sim, so tests can SIGKILL it mid-saga and start another.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { RunningSim } from '../../simulator/index';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logged that it polls. */
  ready: Promise<void>;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** An empty config of its own, so a pve-autopilot.yaml in the working directory plays no part. */
function emptyConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'worker-config-')), 'pve-autopilot.yaml');
  writeFileSync(path, '{}\n');
  return path;
}

export function startWorkerProcess(opts: {
  sim: RunningSim;
  taskQueue: string;
  clusterName?: string;
  /** A Temporal server of the test's own; the shared test server by default. */
  temporalAddress?: string;
}): WorkerProcess {
  return spawnWorker({
    ...(opts.temporalAddress ? { TEMPORAL_ADDRESS: opts.temporalAddress } : {}),
    PVE_AUTOPILOT_CONFIG: emptyConfig(),
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    PROXMOX_HOST: opts.sim.host,
    PROXMOX_PORT: String(opts.sim.port),
    PROXMOX_TOKEN_ID: opts.sim.token.id,
    PROXMOX_TOKEN_SECRET: opts.sim.token.secret,
    PROXMOX_CA_FILE: opts.sim.caFile,
  });
}

/**
 * A worker that reads everything but the Temporal address from a config file (e.g. a clusters: list);
 * `env` adds to its environment (METRICS_ADDRESS, off by default).
 */
export function startConfiguredWorkerProcess(configFile: string, env: NodeJS.ProcessEnv = {}): WorkerProcess {
  return spawnWorker({ PVE_AUTOPILOT_CONFIG: configFile, ...env });
}

function spawnWorker(extraEnv: NodeJS.ProcessEnv): WorkerProcess {
  // Only the settings given here: none of the caller's own PROXMOX_/TEMPORAL_ settings leak in.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(PROXMOX_|TEMPORAL_TASK_QUEUE$|PVE_AUTOPILOT_CONFIG$)/.test(k),
    ),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    env: {
      ...inherited,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      METRICS_ADDRESS: 'off',
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"worker polling"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${output}`)));
  });
  return {
    child,
    ready,
    output: () => output,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** SIGKILLs `current` (when there is one) and starts `next` in its place, once it polls. */
export async function replaceWorker(
  current: WorkerProcess | undefined,
  next: () => WorkerProcess,
): Promise<WorkerProcess> {
  await current?.kill('SIGKILL');
  const worker = next();
  await worker.ready;
  return worker;
}
