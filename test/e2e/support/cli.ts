// Runs the pve-autopilot command as a subprocess, the way an operator does, against a test sim and
// the test Temporal server, and collects what it printed and how it exited.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { RunningSim } from '../../../simulator/index';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const MAIN = join(REPO, 'src/cli/main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** A script to run instead of `--import tsx src/cli/main.ts`, e.g. the bin launcher. */
  entry?: string;
  cwd?: string;
}

export interface CliWorld {
  /** cluster.name of this file's config: workflow ids are ct-<cluster>-<vmid>. */
  cluster: string;
  configPath: string;
  env: Record<string, string>;
  cli(args: readonly string[], opts?: CliOptions): Promise<CliRun>;
}

/** A config of its own (a unique cluster name, so workflow ids never meet another file's). */
export async function cliWorld(sim: RunningSim, taskQueue: string, extraYaml = ''): Promise<CliWorld> {
  const cluster = `e2e-${Math.random().toString(36).slice(2, 10)}`;
  const dir = await mkdtemp(join(tmpdir(), 'pve-autopilot-cli-'));
  const configPath = join(dir, 'pve-autopilot.yaml');
  await writeFile(configPath, `cluster:\n  name: ${cluster}\n${extraYaml}`);
  // Nothing of the caller's own PROXMOX_/TEMPORAL_ settings may leak into the command under test.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !/^(PROXMOX_|TEMPORAL_|PVE_AUTOPILOT_)/.test(e[0]),
    ),
  );
  const env: Record<string, string> = {
    ...inherited,
    PVE_AUTOPILOT_CONFIG: configPath,
    PROXMOX_HOST: sim.host,
    PROXMOX_PORT: String(sim.port),
    PROXMOX_TOKEN_ID: sim.token.id,
    PROXMOX_TOKEN_SECRET: sim.token.secret,
    PROXMOX_CA_FILE: sim.caFile,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
  };
  return {
    cluster,
    configPath,
    env,
    cli: (args, opts = {}) => runCli(args, { ...opts, env: { ...env, ...opts.env } }),
  };
}

export function runCli(args: readonly string[], opts: CliOptions): Promise<CliRun> {
  const argv = opts.entry === undefined ? ['--import', 'tsx', MAIN, ...args] : [opts.entry, ...args];
  return collect(process.execPath, argv, { env: opts.env, cwd: opts.cwd ?? REPO });
}

/** A command line through `sh -c`, as a README shows it, killed after 90 s like any CLI run. */
export function runShell(command: string, opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<CliRun> {
  return collect('sh', ['-c', command], { env: opts.env, cwd: opts.cwd ?? REPO });
}

function collect(
  file: string,
  argv: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd: string },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
