// "Every command line shown in the README is run by a test and does what the README says."
// This file extracts every command line from README.md (the lines of sh blocks, the `$ ` lines of
// console blocks, and inline `npx pve-autopilot ...`/`npm run ... cli -- ...` spans) and fails on
// one that no test covers. Covered means: run here (the cheap CLI lines, against this file's
// pve-sim and the test Temporal server), or listed in `runElsewhere` with the file that runs it,
// and that file contains the command line. To cover a new README line, run it in a test and add
// one entry to `runElsewhere` (or run it below).
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
};

/**
 * Lines no test runs as written, each with the reason. Keep this short: an entry that is no
 * longer in the README fails the test, so the list cannot rot.
 */
const notRunByTests: Record<string, string> = {
  'npm install': 'installs from the network; CI runs its lockfile form, npm ci, in .ci/run',
  'npm run stack:prod': 'builds the Temporal server with Go and runs PostgreSQL: npm run test:prod territory',
  'npm run stack:prod -- --clusters 3': 'as npm run stack:prod',
  'npm run worker': 'needs a Temporal Cloud namespace in its README context (the export lines above it)',
  'export TEMPORAL_ADDRESS=my-ns.a1b2c.tmprl.cloud:7233 TEMPORAL_NAMESPACE=my-ns.a1b2c':
    'a template for Temporal Cloud',
  'export TEMPORAL_API_KEY=...': 'a template for Temporal Cloud',
  'export TEMPORAL_TLS_CERT=/etc/pve-autopilot/client.pem TEMPORAL_TLS_KEY=/etc/pve-autopilot/client.key':
    'a template for Temporal Cloud',
  'for a in PveVmid PveNode PveOperation PveOutcome; do':
    'a template (namespace NS); docker-compose.yml runs it',
  'temporal operator search-attribute create --namespace NS --name $a --type Keyword': 'as the for line',
  done: 'as the for line',
  'temporal operator search-attribute create --namespace NS --name PveNeedsAttention --type Bool':
    'a template (namespace NS); docker-compose.yml runs it',
  "printf 'autoscale:\\n  enabled: true\\n' > autoscale-demo.yaml":
    'the autoscale demo: a long-running npm start',
  'PVE_AUTOPILOT_CONFIG=$PWD/autoscale-demo.yaml npm start -- --sim-scenario lab-2node-autoscale':
    'the autoscale demo: a long-running npm start',
  'npx pve-autopilot --config autoscale-demo.yaml autoscale status': 'the autoscale demo',
  'npx vitest run test/unit/metrics': 'runs a part of npm test alone',
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
