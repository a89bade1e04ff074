// `npm start` as the README tells a new user to run it, then the README's first commands against
// it: the health check, `npx pve-autopilot status`, and `npm run -s cli -- status --json` (valid JSON,
// no npm banner). Ports, data and the generated config are this test's own (through the
// environment variables npm start reads), so a developer's own stack is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runShell, type CliRun as Run } from './support/cli';

// README command lines this file runs as written (readme-commands.test.ts checks they are here):
export const devStackCommands = [
  'npm start',
  'npx pve-autopilot status',
  'npm run -s cli -- status --json',
  'npx pve-autopilot health-check --format json',
  'npx pve-autopilot --help',
  'npx pve-autopilot manager stop',
] as const;

let stack: ChildProcess | undefined;
let output = '';
let env: Record<string, string>;
let configPath: string;
const base = 20_000 + Math.floor(Math.random() * 4000) * 10;
const ports = { temporal: base, ui: base + 3, metrics: base + 5, sim: base + 7 };

function sh(command: string): Promise<Run> {
  return runShell(command, { env, cwd: REPO });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; npm start printed:\n${output}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pve-autopilot-dev-stack-'));
  configPath = join(dir, 'pve-autopilot.yaml');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !/^(PROXMOX_|TEMPORAL_|PVE_|METRICS_)/.test(e[0]),
    ),
  );
  env = {
    ...inherited,
    ...(process.env.TEMPORAL_CLI ? { TEMPORAL_CLI: process.env.TEMPORAL_CLI } : {}),
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    METRICS_PORT: String(ports.metrics),
    PVE_SIM_PORT: String(ports.sim),
    PVE_AUTOPILOT_DATA_DIR: join(dir, 'data'),
    PVE_AUTOPILOT_CONFIG: configPath,
  };
  // Its own process group, so the teardown reaches npm, the launcher and everything it started.
  stack = spawn('sh', ['-c', 'exec npm start'], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  stack.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await until('[dev-stack] ready', 240_000, async () => {
    if (stack?.exitCode !== null) throw new Error(`npm start exited ${stack?.exitCode}:\n${output}`);
    return output.includes('[dev-stack] ready') ? true : undefined;
  });
}, 300_000);

afterAll(async () => {
  if (stack?.pid === undefined || stack.exitCode !== null || stack.signalCode !== null) return;
  const exited = new Promise((r) => stack?.once('exit', r));
  process.kill(-stack.pid, 'SIGINT');
  const timer = setTimeout(() => stack?.pid !== undefined && process.kill(-stack.pid, 'SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}, 90_000);

describe('npm start, then the README first commands', () => {
  it('writes a config that names its Web UI, so the CLI links follow --ui-port', async () => {
    expect(await readFile(configPath, 'utf8')).toContain(`  uiUrl: http://127.0.0.1:${ports.ui}\n`);
  });

  it('npx pve-autopilot health-check --format json: valid JSON, every check ok, exit 0', async () => {
    // The manager's first cycle may still be under way right after "ready".
    const run = await until('a healthy report', 60_000, async () => {
      const r = await sh('npx pve-autopilot health-check --format json');
      return r.code === 0 ? r : undefined;
    });
    const report = JSON.parse(run.stdout) as { healthy: boolean; checks: Array<{ status: string }> };
    expect(report.healthy).toBe(true);
    expect(report.checks.map((c) => c.status)).toEqual(Array(8).fill('ok'));
  });

  it('npm run -s cli -- status --json prints one JSON document and nothing else', async () => {
    const run = await sh('npm run -s cli -- status --json');
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { cluster: string; nodes: Array<{ name: string }> };
    expect(doc.cluster).toBe('pve');
    expect(doc.nodes.map((n) => n.name)).toEqual(['srv-px1', 'srv-px2']);
  });

  it("the README's metrics line shows the nodes' memory (on this stack's metrics port)", async () => {
    const line = "curl -s localhost:9464/metrics | grep '^pve_autopilot_node_memory'";
    // The gauges come from the running manager's last observation, so the first cycle must be done.
    const run = await until('node memory metrics', 60_000, async () => {
      const r = await sh(line.replace('9464', String(ports.metrics)));
      return r.code === 0 ? r : undefined;
    });
    expect(run.stdout).toMatch(
      /^pve_autopilot_node_memory_used_bytes\{cluster="pve",node="srv-px1",zone="srv-px1"\} \d+$/m,
    );
  });

  it('npx pve-autopilot status shows the cluster at once', async () => {
    const run = await sh('npx pve-autopilot status');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Cluster pve\n\nNODE +ZONE +STATUS +CPU % +MEM % /);
    expect(run.stdout).toMatch(/Generator: running +Manager: running/);
  });

  it('npx pve-autopilot --help prints the usage and exits 0', async () => {
    const run = await sh('npx pve-autopilot --help');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^pve-autopilot: run a Proxmox VE LXC fleet/);
    expect(run.stdout).toContain('Usage: pve-autopilot <command> [options]');
  });

  it('npx pve-autopilot manager stop: the manager answers that it is stopping, then stops', async () => {
    // After the status test, which needs the manager running.
    const run = await sh('npx pve-autopilot manager stop');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Cluster manager of cluster pve: (stopping|stopped)\n/);
    await until('the manager stopped', 60_000, async () => {
      const status = await sh('npx pve-autopilot status');
      // Its run completes once no saga of its is in flight.
      return /Manager: not running \(completed\)/.test(status.stdout) ? true : undefined;
    });
  });

  it('Ctrl-C stops the worker, the Temporal server and pve-sim, and leaves nothing on their ports', async () => {
    // Every child runs in its own process group, out of Ctrl-C's reach: only the launcher stops them.
    // Run last: it ends the stack the tests above use.
    if (stack?.pid === undefined) throw new Error('npm start is not running');
    const exited = new Promise((r) => stack?.once('exit', r));
    process.kill(-stack.pid, 'SIGINT');
    await exited;
    expect(output).toContain('[dev-stack] stopped');
    for (const [name, port] of Object.entries(ports)) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      expect(open, `${name} port ${port} still answers after Ctrl-C`).toBe(false);
    }
  });
});
