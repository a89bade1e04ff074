// Benchmark of `npm start`'s own times, as a user meets them: `npm start` on a fresh data dir until
// it says ready, Ctrl-C (SIGINT) until it has stopped, `npm start` again on the same data dir until
// ready (the restart), then `npx pve-autopilot manager stop` against that running stack, and Ctrl-C.
// Next to manager stop it prints what `npx pve-autopilot --help` takes: the start of any command
// (npm, Node, tsx and the CLI's modules), which is most of it.
// Each run has its own free ports, data dir and generated config, so a developer's stack is never
// touched. Prints each figure in seconds, and with --phases the time of each line `npm start`
// printed (where the time goes).
//
//   npm run bench:start [-- --json | --phases] [--keep]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './lib/dev-server';

const REPO = fileURLToPath(new URL('../', import.meta.url));

interface Stack {
  process: ChildProcess;
  /** Lines `npm start` printed, each with the seconds since it was spawned. */
  lines: Array<{ at: number; text: string }>;
  exited: Promise<void>;
}

function startStack(env: NodeJS.ProcessEnv): Stack {
  const t0 = performance.now();
  // Its own process group, so SIGINT reaches npm and the launcher as Ctrl-C in a terminal does.
  const child = spawn('npm', ['start'], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Stack['lines'] = [];
  let partial = '';
  const take = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ at: (performance.now() - t0) / 1000, text });
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { process: child, lines, exited };
}

/** Seconds from the spawn to the line that contains `mark`. */
async function waitForLine(stack: Stack, mark: string, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = stack.lines.find((l) => l.text.includes(mark));
    if (line) return line.at;
    if (stack.process.exitCode !== null || Date.now() > until) {
      throw new Error(`npm start never printed "${mark}":\n${stack.lines.map((l) => l.text).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends Ctrl-C's SIGINT to the stack's group; seconds until npm start has exited. */
async function interrupt(stack: Stack): Promise<number> {
  const pid = stack.process.pid as number;
  const t0 = performance.now();
  process.kill(-pid, 'SIGINT');
  const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 60_000);
  await stack.exited;
  clearTimeout(timer);
  return (performance.now() - t0) / 1000;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; seconds: number; output: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, seconds: (performance.now() - t0) / 1000, output }));
  });
}

function phases(label: string, stack: Stack): string {
  return [`${label}:`, ...stack.lines.map((l) => `  ${l.at.toFixed(1).padStart(6)} s  ${l.text}`)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      phases: { type: 'boolean', default: false },
      // Keeps the data dir (the server's and the worker's logs) and prints where it is.
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const dir = await mkdtemp(join(tmpdir(), 'pve-autopilot-bench-start-'));
  // Nothing of the caller's own settings may point the stack elsewhere.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(PROXMOX_|TEMPORAL_(?!CLI)|PVE_|METRICS_|npm_)/.test(k)),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    PVE_SIM_PORT: String(await freePort()),
    PVE_AUTOPILOT_DATA_DIR: join(dir, 'data'),
    PVE_AUTOPILOT_CONFIG: join(dir, 'pve-autopilot.yaml'),
  };
  const stacks: Stack[] = [];
  try {
    const fresh = startStack(env);
    stacks.push(fresh);
    const freshReady = await waitForLine(fresh, '[dev-stack] ready', 300_000);
    const freshStop = await interrupt(fresh);

    const again = startStack(env);
    stacks.push(again);
    const restartReady = await waitForLine(again, '[dev-stack] ready', 300_000);
    // What any command costs before it does anything: npx, Node, tsx and the CLI's modules.
    const help = await run('npx', ['pve-autopilot', '--help'], env);
    if (help.code !== 0) throw new Error(`pve-autopilot --help exited ${help.code}: ${help.output}`);
    const stop = await run('npx', ['pve-autopilot', 'manager', 'stop'], env);
    if (stop.code !== 0) throw new Error(`manager stop exited ${stop.code}: ${stop.output}`);
    const restartStop = await interrupt(again);

    const result = {
      freshReadySeconds: round(freshReady),
      restartReadySeconds: round(restartReady),
      managerStopSeconds: round(stop.seconds),
      cliStartSeconds: round(help.seconds),
      ctrlCStopSeconds: { fresh: round(freshStop), restart: round(restartStop) },
    };
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      if (values.phases) console.log(`${phases('fresh npm start', fresh)}\n${phases('restart', again)}\n`);
      console.log(`fresh start to ready    ${result.freshReadySeconds} s`);
      console.log(`restart to ready        ${result.restartReadySeconds} s`);
      console.log(`manager stop            ${result.managerStopSeconds} s`);
      console.log(`  of it the CLI's start ${result.cliStartSeconds} s (npx pve-autopilot --help)`);
      console.log(
        `Ctrl-C to stopped       ${result.ctrlCStopSeconds.fresh} s (fresh), ${result.ctrlCStopSeconds.restart} s (restart)`,
      );
    }
  } finally {
    for (const s of stacks)
      if (s.process.exitCode === null && s.process.signalCode === null) await interrupt(s);
    if (values.keep) console.error(`data, logs and config kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

function round(s: number): number {
  return Math.round(s * 10) / 10;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
