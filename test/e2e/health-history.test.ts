// `pve-autopilot health-check` and `history` end to end: a subprocess per call, against this file's
// pve-sim, the shared Temporal dev server, a worker with the real activities and a running manager.
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { waitFor } from '../support/manual-clock';
import { cliWorld, type CliRun, type CliWorld } from './support/cli';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { clusterManagerWorkflowId, managerStatusQuery, setThresholdsUpdate } from '../../workflows/messages';

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  await s.run(async () => undefined);
  // Thresholds nothing reaches, so the manager cycles and never moves a container under the tests.
  w = await cliWorld(
    s.sim.sim,
    s.taskQueue,
    'manager:\n  cycleSeconds: 2\nlab:\n  migratePercent: 99\n  dropPercent: 100\n',
  );
  const started = await w.cli(['manager', 'start']);
  expect(started.code, started.stderr).toBe(0);
  const handle = s.env.client.workflow.getHandle(clusterManagerWorkflowId(w.cluster));
  await s.run(() =>
    waitFor('the first manager cycle', async () =>
      (await handle.query(managerStatusQuery)).lastObservation ? true : undefined,
    ),
  );
});
afterAll(async () => {
  await w?.cli(['manager', 'stop']);
  await s?.teardown();
});

interface Report {
  healthy: boolean;
  checks: Array<{ name: string; status: string; message: string }>;
}

function report(run: CliRun): Report {
  const parsed = JSON.parse(run.stdout) as Report;
  expect(parsed.checks.length).toBeGreaterThanOrEqual(8);
  return parsed;
}

const statusOf = (r: Report, name: string) => r.checks.find((c) => c.name === name)?.status;
const readonlyToken = () => {
  const token = s.sim.sim.tokens.find((t) => t.id === 'root@pam!readonly');
  if (!token) throw new Error('pve-sim has no read-only token');
  return { PROXMOX_TOKEN_ID: token.id, PROXMOX_TOKEN_SECRET: token.secret };
};

describe('pve-autopilot health-check', () => {
  it('prints valid JSON and exits 0 when everything works', async () => {
    const run = await w.cli(['health-check', '--format', 'json']);
    const r = report(run);
    expect(r.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(r.healthy).toBe(true);
    expect(run.code).toBe(0);
    expect(r.checks.map((c) => c.name)).toEqual([
      'config',
      'temporal',
      'namespace',
      'search-attributes',
      'worker',
      'proxmox',
      'privileges',
      'manager',
    ]);
    expect(r.checks.find((c) => c.name === 'manager')?.message).toMatch(/cycling/);
  });

  it('exits 1 when Temporal is down, and says so', async () => {
    const run = await w.cli(['health-check', '--format', 'json'], {
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_CONNECT_TIMEOUT_MS: '1500' },
    });
    const r = report(run);
    expect(run.code).toBe(1);
    expect(r.healthy).toBe(false);
    expect(statusOf(r, 'temporal')).toBe('fail');
    expect(statusOf(r, 'worker')).toBe('skipped');
    expect(statusOf(r, 'proxmox')).toBe('ok');
  });

  it('exits 1 with a read-only token for a rule set that writes, naming the missing privileges', async () => {
    const run = await w.cli(['health-check', '--format', 'json'], { env: readonlyToken() });
    const r = report(run);
    expect(run.code).toBe(1);
    expect(statusOf(r, 'proxmox')).toBe('ok');
    const privileges = r.checks.find((c) => c.name === 'privileges');
    expect(privileges?.status).toBe('fail');
    expect(privileges?.message).toContain('VM.Migrate on /vms (lab: migrate)');
    expect(privileges?.message).toContain('VM.PowerMgmt');
  });

  it('passes the privilege check with a read-only token when no rule writes', async () => {
    const config = `${w.configPath}.off.yaml`;
    await writeFile(config, `cluster:\n  name: ${w.cluster}\nmanager:\n  automation: off\n`);
    const run = await w.cli(['health-check', '--format', 'json'], {
      env: { ...readonlyToken(), PVE_AUTOPILOT_CONFIG: config },
    });
    expect(statusOf(report(run), 'privileges')).toBe('ok');
  });

  it('a bad config is a failed check with the field named: exit 1, not 2', async () => {
    const config = `${w.configPath}.bad.yaml`;
    await writeFile(config, 'lab:\n  migratePercent: abc\n');
    const run = await w.cli(['health-check', '--json'], { env: { PVE_AUTOPILOT_CONFIG: config } });
    const r = report(run);
    expect(run.code).toBe(1);
    expect(r.checks[0]).toMatchObject({ name: 'config', status: 'fail' });
    expect(r.checks[0]?.message).toContain('lab.migratePercent');
  });

  it('prints one line per check for a terminal', async () => {
    const run = await w.cli(['health-check']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok +config +cluster e2e-/m);
    expect(run.stdout).toMatch(/^ok +worker +1 worker\(s\) poll/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('healthy');
  });
});

describe('pve-autopilot status beside a running manager', () => {
  it("shows the manager's managed-memory % per node next to the node's own memory %", async () => {
    const run = await w.cli(['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      nodes: Array<{ name: string; memPercent: number; managedPercent: number | null }>;
      needsAttention: unknown[];
    };
    const state = await s.env.client.workflow
      .getHandle(clusterManagerWorkflowId(w.cluster))
      .query(managerStatusQuery);
    for (const node of doc.nodes) {
      const observed = state.lastObservation?.nodes.find((n) => n.name === node.name);
      expect(node.managedPercent).toBe(observed?.managedPercent);
    }
    expect(doc.needsAttention).toEqual([]);
    const human = await w.cli(['status']);
    expect(human.stdout).toMatch(/NODE +ZONE +STATUS +CPU % +MEM % +MANAGED % +DISK % +CTS/);
  });
});

describe('pve-autopilot history', () => {
  it('lists past operations with outcome and reason, filtered by vmid and outcome', async () => {
    expect((await w.cli(['scale', '1401', '--cores', '999'])).code).toBe(3);
    expect((await w.cli(['scale', '1402', '--memory', '1024'])).code).toBe(0);

    const all = await w.cli(['history', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const runs = (JSON.parse(all.stdout) as { runs: Array<Record<string, unknown>> }).runs;
    expect(runs.map((r) => [r.vmid, r.operation, r.outcome])).toEqual([
      ['1402', 'scale', 'succeeded'],
      ['1401', 'scale', 'refused'],
    ]);
    expect(runs[1]?.reason).toMatch(/999 cores asked, but node srv-px1 has 16 CPUs/);
    expect(runs[0]?.summary).toBe('scale CT 1402: memory 1024 MiB — operator, pve-autopilot CLI');

    const refused = await w.cli(['history', '--outcome', 'refused', '--json']);
    expect((JSON.parse(refused.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    const one = await w.cli(['history', '--vmid', '1402', '--since', '1h']);
    expect(one.stdout).toMatch(/ct-\S+-1402 +scale +1402 +srv-px\d +succeeded /);
    expect(one.stdout).not.toContain('1401');
    const none = await w.cli(['history', '--since', '2000-01-01T00:00Z', '--outcome', 'needs-attention']);
    expect(none.stdout).toBe('No operations match.\n');
  });

  it('refuses a bad filter with exit 2', async () => {
    const run = await w.cli(['history', '--since', 'yesterday']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('history: --since: expected a duration such as 30m');
  });
});

describe('first-contact frictions', () => {
  it('a rejected update is a non-retryable InvalidUpdate failure, and the CLI exits 3', async () => {
    const handle = s.env.client.workflow.getHandle(clusterManagerWorkflowId(w.cluster));
    const err: unknown = await handle
      .executeUpdate(setThresholdsUpdate, {
        args: [{ bogusPercent: 5 } as unknown as { migratePercent: number }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'InvalidUpdate', nonRetryable: true });
    const run = await w.cli(['manager', 'set', 'thresholds', 'bogusPercent=5']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('bogusPercent: unknown threshold');
  });

  it('a wrong password is reported as a wrong password, not as a token problem', async () => {
    const run = await w.cli(['status'], {
      env: {
        PROXMOX_TOKEN_ID: '',
        PROXMOX_TOKEN_SECRET: '',
        PROXMOX_USER: 'root@pam',
        PROXMOX_PASSWORD: 'not-the-password',
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('check proxmox.username (root@pam) and password');
    expect(run.stderr).not.toMatch(/tokenId|TOKEN_SECRET/);
  });

  it('links point at the Web UI the config names (npm start writes temporal.uiUrl)', async () => {
    const config = `${w.configPath}.ui.yaml`;
    await writeFile(config, `cluster:\n  name: ${w.cluster}\ntemporal:\n  uiUrl: http://127.0.0.1:8933\n`);
    const run = await w.cli(['scale', '1403', '--memory', '768', '--no-wait'], {
      env: { PVE_AUTOPILOT_CONFIG: config },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`http://127.0.0.1:8933/namespaces/default/workflows/ct-${w.cluster}-1403`);
  });
});
