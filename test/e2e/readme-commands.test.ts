// "Every command line shown in the README is run by a test and does what the README says."
// This file extracts every command line from README.md (the lines of sh blocks, the `$ ` lines of
// console blocks, and inline `npx pve-autopilot ...`/`npm run ... cli -- ...` spans) and fails on
// one that no test covers. Covered means: run here (the cheap CLI lines, against this file's
// pve-sim and the test Temporal server), or listed in `runElsewhere` with the file that runs it,
// and that file contains the command line. To cover a new README line, run it in a test and add
// one entry to `runElsewhere` (or run it below).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import proto from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureTemporalCli } from '../../scripts/temporal-cli';
import { freePort } from '../../scripts/lib/dev-server';
import { uniqueTaskQueue } from '../support/temporal';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { waitFor } from '../support/manual-clock';
import { cliWorld, REPO, type CliRun, type CliWorld } from './support/cli';
import { clusterManagerWorkflowId, managerStatusQuery } from '../../workflows/messages';

/** README command line → the file (repo-relative) that runs it, as written there. */
const runElsewhere: Record<string, string> = {
  'npm start': 'test/e2e/dev-stack.test.ts',
  'npx pve-autopilot status': 'test/e2e/dev-stack.test.ts',
  'npm run -s cli -- status --json': 'test/e2e/dev-stack.test.ts',
  'npx pve-autopilot health-check --format json': 'test/e2e/dev-stack.test.ts',
  'npx pve-autopilot --help': 'test/e2e/dev-stack.test.ts',
  'npx pve-autopilot manager stop': 'test/e2e/dev-stack.test.ts',
  'npm test': '.ci/run',
  "curl -s localhost:9464/metrics | grep '^pve_autopilot_node_memory'": 'test/e2e/dev-stack.test.ts',
  'promtool check rules deploy/prometheus/alerts.yml': 'test/unit/metrics/metrics.test.ts',
  'promtool test rules test/fixtures/prometheus/alerts-test.yml': 'test/unit/metrics/metrics.test.ts',
  'pve-autopilot node drain srv-px1 --parallel 2 --wait': 'test/e2e/node-drain-cli.test.ts',
  'pve-autopilot node status': 'test/e2e/node-drain-cli.test.ts',
  'pve-autopilot node undrain srv-px1': 'test/e2e/node-drain-cli.test.ts',
  'npx pve-autopilot alerts': 'test/integration/alerts/kill.test.ts',
  'npx pve-autopilot alerts --json': 'test/integration/alerts/kill.test.ts',
  'pve-autopilot spread check': 'test/e2e/spread-check.test.ts',
  'pve-autopilot spread check --exclude-pools web': 'test/e2e/spread-check.test.ts',
  [String.raw`printf 'autoscale:\n  enabled: true\n' > autoscale-demo.yaml`]:
    'test/e2e/dev-stack-autoscale-demo.test.ts',
  'PVE_AUTOPILOT_CONFIG=$PWD/autoscale-demo.yaml npm start -- --sim-scenario lab-2node-autoscale':
    'test/e2e/dev-stack-autoscale-demo.test.ts',
  'npx pve-autopilot --config autoscale-demo.yaml autoscale status':
    'test/e2e/dev-stack-autoscale-demo.test.ts',
  // Run by npm run test:prod (Go-built Temporal server, PostgreSQL), not npm test.
  'npm run stack:prod': 'test/prod/readme-stack-prod.test.ts',
  'npm run stack:prod -- --clusters 3': 'test/prod/readme-stack-prod.test.ts',
};

/**
 * Lines no test runs as written, each with the reason. Keep this short: an entry that is no
 * longer in the README fails the test, so the list cannot rot.
 */
const notRunByTests: Record<string, string> = {
  'npm install': 'installs from the network; CI runs its lockfile form, npm ci, in .ci/run',
};

/** The README lines this file runs (in README order, in the describe below). */
const runHere = [
  'pve-autopilot config validate',
  'pve-autopilot status',
  'pve-autopilot migrate 1401 --to srv-px2',
  'pve-autopilot migrate 1401 --to srv-px9',
  'echo $?',
  'pve-autopilot manager start --automation recommend',
  'pve-autopilot manager status',
  'pve-autopilot manager approve --all',
  // The worker section: the search attributes on a namespace of one's own (NS), then the worker.
  'for a in PveVmid PveNode PveOperation PveOutcome; do',
  'temporal operator search-attribute create --namespace NS --name $a --type Keyword',
  'done',
  'temporal operator search-attribute create --namespace NS --name PveNeedsAttention --type Bool',
  'npm run worker',
  'npx vitest run test/unit/metrics',
];

export function readmeCommandLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const raw of markdown.split('\n')) {
    const open = /^```(\w*)/.exec(raw);
    if (open) {
      fence = fence === null ? (open[1] ?? '') : null;
      continue;
    }
    const text = raw.trim();
    if (fence === 'sh' || fence === 'bash' || fence === 'shell') {
      if (text !== '' && !text.startsWith('#')) lines.push(withoutComment(text));
    } else if (fence === 'console') {
      if (text.startsWith('$ ')) lines.push(withoutComment(text.slice(2)));
    } else if (fence === null) {
      for (const m of raw.matchAll(/`((?:npx pve-autopilot|npm run(?: -s)? cli --) [^`]*)`/g)) {
        const command = m[1] ?? '';
        if (!command.includes('<')) lines.push(command);
      }
    }
  }
  return [...new Set(lines)];
}

/** `cmd   # why` → `cmd`; a # inside quotes is kept. */
function withoutComment(line: string): string {
  return line.replace(/\s+#\s[^'"]*$/, '').trim();
}

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const commands = readmeCommandLines(readme);

describe('the README command lines', () => {
  it('are found (sh blocks, console $ lines, inline spans)', () => {
    expect(commands).toContain('npm start');
    expect(commands).toContain('pve-autopilot status');
    expect(commands).toContain('npm run -s cli -- status --json');
  });

  it('are each run by a test', () => {
    const uncovered = commands.filter(
      (c) => !runHere.includes(c) && runElsewhere[c] === undefined && notRunByTests[c] === undefined,
    );
    expect(uncovered, 'README command lines no test runs: run them, then list them here').toEqual([]);
  });

  it('that are run elsewhere are in the file named for them', () => {
    for (const [command, file] of Object.entries(runElsewhere)) {
      const path = join(REPO, file);
      expect(existsSync(path), file).toBe(true);
      expect(readFileSync(path, 'utf8'), `${file} runs ${command}`).toContain(command);
    }
  });

  it('lists only lines the README still shows', () => {
    const listed = [...runHere, ...Object.keys(runElsewhere), ...Object.keys(notRunByTests)];
    expect(listed.filter((c) => !commands.includes(c))).toEqual([]);
  });
});

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  await s.run(async () => undefined);
  // Thresholds every node is over, so the manager's first cycles recommend something to approve.
  w = await cliWorld(
    s.sim.sim,
    s.taskQueue,
    'lab:\n  migratePercent: 0.5\n  dropPercent: 1\n  dropMode: stop\n',
  );
});
afterAll(async () => {
  await w?.cli(['manager', 'stop']);
  await s?.teardown();
});

/** `pve-autopilot a b` as the README writes it, run through the CLI with this file's config. */
function cli(line: string, env: Record<string, string> = {}): Promise<CliRun> {
  expect(runHere).toContain(line);
  return w.cli(line.split(' ').slice(1), { env });
}

describe('the README CLI examples, run as written', () => {
  it('pve-autopilot config validate names the bad field', async () => {
    const bad = `${w.configPath}.bad.yaml`;
    await writeFile(bad, 'lab:\n  migratePercent: abc\n');
    const run = await cli('pve-autopilot config validate', { PVE_AUTOPILOT_CONFIG: bad });
    expect(run.stderr).toContain(
      'config error: lab.migratePercent: expected a number between 0 and 100, got "abc"',
    );
    expect(run.code).toBe(2);
  });

  it(
    'pve-autopilot status, migrate (good and bad node), manager start/status/approve',
    { timeout: 300_000 },
    async () => {
      const status = await cli('pve-autopilot status');
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        /^Cluster e2e-\S+\n\nNODE +ZONE +STATUS +CPU % +MEM % +DISK % +CTS +DRAIN\nsrv-px1 +- +online/,
      );
      expect(status.stdout).toMatch(/\nVMID +NAME +NODE +STATUS +CPU % +MEM % +DISK % +MANAGED\n/);
      expect(status.stdout).toContain('Locks: none');

      const moved = await cli('pve-autopilot migrate 1401 --to srv-px2');
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stdout).toMatch(/^Started: migrate CT 1401 to srv-px2\n {2}workflow ct-\S+-1401 {2}http/);
      expect(moved.stdout).toContain('Succeeded: CT 1401 moved srv-px1 → srv-px2, running');

      const bad = await cli('pve-autopilot migrate 1401 --to srv-px9');
      expect(bad.stderr).toBe(
        'pve-autopilot: migrate: unknown node "srv-px9"; the cluster has srv-px1, srv-px2\n' +
          'Usage: pve-autopilot migrate <vmid> --to NODE [--mode offline|restart] [--no-wait]\n',
      );
      // `echo $?` right after it.
      expect(runHere).toContain('echo $?');
      expect(bad.code).toBe(2);

      const start = await cli('pve-autopilot manager start --automation recommend');
      expect(start.code, start.stderr).toBe(0);
      const handle = s.env.client.workflow.getHandle(clusterManagerWorkflowId(w.cluster));
      let lastNotes = '';
      await s.run(() =>
        waitFor(
          'a recommended decision',
          async () => {
            const state = await handle.query(managerStatusQuery);
            lastNotes = JSON.stringify({
              cycle: state.cycle,
              notes: state.notes,
              decisions: state.core.decisions,
            });
            return state.core.decisions.some((d) => d.status === 'recommended') ? true : undefined;
          },
          120_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}: ${lastNotes}`);
        }),
      );
      const managerStatus = await cli('pve-autopilot manager status');
      expect(managerStatus.code, managerStatus.stderr).toBe(0);
      expect(managerStatus.stdout).toMatch(/\nc\d+-\d+ +\d\d:\d\d:\d\d +recommended +(drop|migrate) CT \d+ /);
      const approved = await cli('pve-autopilot manager approve --all');
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/^Approved: c\d+-\d+/);
    },
  );
});

interface ShRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A README line (or block) run through sh in the repository, as a reader pastes it. */
function sh(
  script: string,
  env: Record<string, string | undefined>,
  opts: { timeoutMs?: number; onStart?: (pid: number, out: () => string) => void } = {},
): Promise<ShRun> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a signal reaches npm and everything it started.
    const child = spawn('sh', ['-c', script], {
      cwd: REPO,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = () => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL');
    const timer = setTimeout(kill, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.pid !== undefined) opts.onStart?.(child.pid, () => stdout + stderr);
  });
}

/** This process's environment without what would point a command elsewhere (or at vitest's own run). */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && !/^(PROXMOX_|TEMPORAL_(?!CLI$)|PVE_AUTOPILOT_|METRICS_|VITEST|npm_)/.test(e[0]),
    ),
  );
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('the README worker section, run as written', () => {
  it(
    'the search-attribute lines register the four Keyword attributes and the Bool one on namespace NS',
    { timeout: 120_000 },
    async () => {
      // NS is the reader's namespace: here a new one of this test's, so nothing is registered yet.
      const ns = `readme-${Math.random().toString(36).slice(2, 10)}`;
      const { workflowService, operatorService } = s.env.connection;
      await workflowService.registerNamespace({
        namespace: ns,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      await until(`namespace ${ns}`, 30_000, async () => {
        await operatorService.listSearchAttributes({ namespace: ns });
        return true;
      });
      const block = [
        'for a in PveVmid PveNode PveOperation PveOutcome; do',
        'temporal operator search-attribute create --namespace NS --name $a --type Keyword',
        'done',
        'temporal operator search-attribute create --namespace NS --name PveNeedsAttention --type Bool',
      ];
      for (const l of block) expect(runHere).toContain(l);
      const temporal = await ensureTemporalCli({ log: () => undefined });
      const run = await sh(block.join('\n').replaceAll('--namespace NS', `--namespace ${ns}`), {
        ...cleanEnv(),
        // `temporal` as the reader has it on PATH, pointed at this test's server the CLI's own way.
        PATH: `${dirname(temporal)}${delimiter}${process.env.PATH ?? ''}`,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
      });
      expect(run.code, run.stderr).toBe(0);
      const { customAttributes } = await operatorService.listSearchAttributes({ namespace: ns });
      const { INDEXED_VALUE_TYPE_KEYWORD: keyword, INDEXED_VALUE_TYPE_BOOL: bool } =
        proto.temporal.api.enums.v1.IndexedValueType;
      expect(customAttributes).toMatchObject({
        PveVmid: keyword,
        PveNode: keyword,
        PveOperation: keyword,
        PveOutcome: keyword,
        PveNeedsAttention: bool,
      });
    },
  );

  it(
    'npm run worker polls the task queue, logs JSON to stdout, serves /metrics, and stops on SIGINT',
    { timeout: 180_000 },
    async () => {
      expect(runHere).toContain('npm run worker');
      const taskQueue = uniqueTaskQueue('readme-worker');
      const metricsPort = await freePort();
      let polling: Record<string, unknown> | undefined;
      let metrics = '';
      const run = await sh(
        'npm run worker',
        {
          ...cleanEnv(),
          ...w.env,
          TEMPORAL_TASK_QUEUE: taskQueue,
          METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
          // The shared bundle of the test run: the same workflows, without building them again.
          WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
        },
        {
          onStart: (pid, out) => {
            void until('the worker polling', 150_000, async () => {
              polling = out()
                .split('\n')
                .filter((l) => l.startsWith('{'))
                .map((l) => JSON.parse(l) as Record<string, unknown>)
                .find((l) => l.msg === 'worker polling');
              if (polling === undefined) return undefined;
              metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
              return true;
            })
              .catch(() => undefined)
              .finally(() => process.kill(-pid, 'SIGINT'));
          },
        },
      );
      expect(polling, run.stdout + run.stderr).toMatchObject({ taskQueue, namespace: 'default' });
      expect(metrics).toMatch(/^# TYPE pve_autopilot_saga_outcomes_total counter$/m);
      // SIGINT (Ctrl-C, to npm and the worker alike): it stops polling, lets running activities
      // finish, and says so last. (sh and npm themselves end by the signal, as in a terminal.)
      const lines = run.stdout.trim().split('\n');
      expect(lines.at(-1), run.stdout + run.stderr).toContain('"msg":"worker stopped"');
    },
  );

  it('npm run worker exits 1 naming the address when Temporal stays unreachable', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const run = await sh('npm run worker', {
      ...cleanEnv(),
      ...w.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_CONNECT_TIMEOUT_MS: '2000',
      METRICS_ADDRESS: 'off',
    });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(address);
  });
});

describe('the README metrics section, run as written', () => {
  it(
    'npx vitest run test/unit/metrics runs the metrics checks and passes',
    { timeout: 300_000 },
    async () => {
      expect(runHere).toContain('npx vitest run test/unit/metrics');
      const run = await sh(
        'npx vitest run test/unit/metrics',
        { ...cleanEnv(), NO_COLOR: '1', FORCE_COLOR: '0' },
        { timeoutMs: 280_000 },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('test/unit/metrics/metrics.test.ts');
      expect(run.stdout).toMatch(/Test Files +1 passed \(1\)/);
    },
  );
});
