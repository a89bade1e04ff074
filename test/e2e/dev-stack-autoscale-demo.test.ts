// The README's autoscale demo, its three lines as written, in a directory of this test's own: write
// autoscale-demo.yaml, `npm start` the lab-2node-autoscale scenario with it, and read
// `autoscale status` through that file, until cache-1404 has got its 512 MiB more. Ports and data are
// this test's own (through the environment variables npm start reads), so a developer's stack is
// never touched; the directory is inside the repository (.test-results/) because npm finds the
// project by walking up from where it is run, as from a reader's checkout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runShell, type CliRun as Run } from './support/cli';

// README command lines this file runs as written (readme-commands.test.ts checks they are here):
export const autoscaleDemoCommands = [
  String.raw`printf 'autoscale:\n  enabled: true\n' > autoscale-demo.yaml`,
  'PVE_AUTOPILOT_CONFIG=$PWD/autoscale-demo.yaml npm start -- --sim-scenario lab-2node-autoscale',
  'npx pve-autopilot --config autoscale-demo.yaml autoscale status',
] as const;
const [writeConfig, startStack, autoscaleStatus] = autoscaleDemoCommands;

let dir: string;
let env: Record<string, string>;
let stack: ChildProcess | undefined;
let output = '';
const base = 20_000 + Math.floor(Math.random() * 4000) * 10;
const ports = { temporal: base + 1, ui: base + 4, metrics: base + 6, sim: base + 8 };

function sh(command: string): Promise<Run> {
  return runShell(command, { env, cwd: dir });
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
  await mkdir(join(REPO, '.test-results'), { recursive: true });
  dir = await mkdtemp(join(REPO, '.test-results', 'autoscale-demo-'));
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && !/^(PROXMOX_|TEMPORAL_|PVE_|METRICS_|npm_)/.test(e[0]),
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
    // The reader's CLI finds the stack on Temporal's default port; this one is elsewhere.
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
  };
}, 30_000);

afterAll(async () => {
  if (stack?.pid !== undefined && stack.exitCode === null && stack.signalCode === null) {
    const exited = new Promise((r) => stack?.once('exit', r));
    process.kill(-stack.pid, 'SIGINT');
    const timer = setTimeout(() => stack?.pid !== undefined && process.kill(-stack.pid, 'SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 90_000);

describe('the README autoscale demo, run as written', () => {
  it(`${writeConfig} writes the config that turns autoscaling on`, async () => {
    const run = await sh(writeConfig);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(dir, 'autoscale-demo.yaml'), 'utf8')).toBe('autoscale:\n  enabled: true\n');
  });

  it(
    'npm start with it runs lab-2node-autoscale, and autoscale status shows cache-1404 get 512 MiB more',
    { timeout: 420_000 },
    async () => {
      // Its own process group, so the teardown reaches npm, the launcher and everything it started.
      stack = spawn('sh', ['-c', startStack], {
        cwd: dir,
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
      expect(output).toContain('[dev-stack] pve-sim lab-2node-autoscale ');
      // The demo's file is the reader's own: npm start leaves it as it is and uses it.
      expect(output).toContain(`${join(dir, 'autoscale-demo.yaml')} is your own`);
      expect(await readFile(join(dir, 'autoscale-demo.yaml'), 'utf8')).toBe('autoscale:\n  enabled: true\n');

      let last: Run | undefined;
      const grown = await until('cache-1404 scaled up', 150_000, async () => {
        last = await sh(autoscaleStatus);
        if (last.code !== 0) return undefined;
        // VMID NODE CORES MEMORY MiB ...: "512 → 1024" while the saga runs, then "1024".
        const row = /^1404 +srv-px2 +\d+ +(?:512 → )?(\d+) /m.exec(last.stdout);
        return row && Number(row[1]) >= 1024 ? last : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nlast autoscale status: ${JSON.stringify(last)}`);
      });
      expect(grown.stdout).toMatch(/^Autoscaling in cluster pve: on \(cycle \d+, observation of /);
      expect(grown.stdout).toMatch(/^1401 +srv-px1 /m);
    },
  );
});
