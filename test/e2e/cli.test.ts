// The pve-autopilot command end to end: a subprocess per call, against this file's pve-sim, the
// shared Temporal dev server and a worker with the real activities. Each test asserts on what an
// operator sees (stdout, stderr, exit code) and on the cluster and Temporal afterwards.
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ctView, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { PveOperation, PveVmid } from '../../workflows/search-attributes';
import { ruleNames } from '../../src/policy/rules/registry';
import { cliWorld, REPO, type CliWorld } from './support/cli';

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  // Gives saga-env's "worker stopped" promise a handler even when a filtered run calls s.run() nowhere,
  // so teardown does not surface it as an unhandled rejection.
  await s.run(async () => undefined);
  // Thresholds every node is over, so the manager's first cycle surely recommends something; drops
  // only stop. The generator finds every node full at once (limit 0.1 %) and backs off: its commands
  // are tested without waiting for container creations, which the generator's own tests cover.
  w = await cliWorld(
    s.sim.sim,
    s.taskQueue,
    [
      'lab:',
      '  migratePercent: 1',
      '  dropPercent: 2',
      '  dropMode: stop',
      'generator:',
      '  limitPercent: 0.1',
      '  arrival: { law: periodic, meanSeconds: 1 }',
      '  backoffSeconds: 2',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await s?.teardown();
});

/** Requests that change something (POST, PUT, DELETE) the sim has answered so far. */
async function writes(): Promise<number> {
  const counters = await s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
  return Object.entries(counters)
    .filter(([key]) => /^(POST|PUT|DELETE) \/api2/.test(key))
    .reduce((sum, [, n]) => sum + n, 0);
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await s.env.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

const ctId = (vmid: number) => `ct-${w.cluster}-${vmid}`;
const uiHost = () => `http://${w.env.TEMPORAL_ADDRESS?.replace(/:\d+$/, '')}:8233`;

describe('pve-autopilot help and arguments', () => {
  it('prints help with the exit codes and exits 0, through the bin launcher from any directory', async () => {
    const run = await w.cli(['--help'], { entry: join(REPO, 'bin/pve-autopilot.js'), cwd: tmpdir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: pve-autopilot <command> [options]');
    expect(run.stdout).toMatch(
      /Exit codes:\n {2}0 {2}success\n {2}1 .*rolled back\n {2}2 .*\n {2}3 .*\n {2}4 .*\n {2}5 /,
    );
  });

  it('passes the exit code of a bad command through the launcher: 2, with the word at fault named', async () => {
    const run = await w.cli(['frobnicate'], { entry: join(REPO, 'bin/pve-autopilot.js'), cwd: tmpdir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stdout).toBe('');
  });
});

describe('pve-autopilot config validate', () => {
  it('prints the effective config with secrets masked', async () => {
    const run = await w.cli(['config', 'validate']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Source: ${w.configPath}`);
    expect(run.stdout).toContain(`name: ${w.cluster}`);
    expect(run.stdout).toMatch(/tokenSecret: "\*\*\*"/);
    expect(run.stdout + run.stderr).not.toContain(s.sim.sim.token.secret);
  });

  it('names the field of a bad config and exits 2, also as JSON', async () => {
    const bad = join(tmpdir(), `pve-autopilot-bad-${w.cluster}.yaml`);
    await writeFile(bad, 'lab:\n  migratePercent: abc\n');
    const run = await w.cli(['config', 'validate', '--config', bad, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/config error: lab\.migratePercent: expected a number .*got "abc"/);
    const doc = JSON.parse(run.stdout) as { error: { exitCode: number; problems: Array<{ path: string }> } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.problems.map((p) => p.path)).toEqual(['lab.migratePercent']);
  });
});

describe('pve-autopilot status', () => {
  it('prints nodes and containers with CPU, memory and disk percent, managed flags, and operations in flight', async () => {
    // An operation that stays in flight: its task queue has no worker.
    const placeholder = await s.env.client.workflow.start('migrateContainerWorkflow', {
      taskQueue: `nobody-${w.cluster}`,
      workflowId: ctId(1400),
      args: [{}],
      typedSearchAttributes: [
        { key: PveOperation, value: 'migrate' },
        { key: PveVmid, value: '1400' },
      ],
    });
    try {
      const run = await w.cli(['status']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /NODE +ZONE +STATUS +CPU % +MEM % +DISK % +CTS +DRAIN\nsrv-px1 +- +online +\d+\.\d +\d+\.\d +\d+\.\d +3 +-\n/,
      );
      expect(run.stdout).toMatch(/VMID +NAME +NODE +STATUS +CPU % +MEM % +DISK % +MANAGED/);
      expect(run.stdout).toMatch(/\n 100 +gateway +srv-px1 +running +[\d.]+ +[\d.]+ +[\d.]+ +no\n/);
      expect(run.stdout).toMatch(/\n1403 +worker-1403 +srv-px2 +stopped +[\d.]+ +[\d.]+ +[\d.]+ +yes\n/);
      expect(run.stdout).toContain('Locks: none');
      expect(run.stdout).toMatch(new RegExp(`Operations in flight:\\n.*\\n +${ctId(1400)} +migrate +1400 `));
      expect(run.stdout).toContain('Generator: not started    Manager: not started');

      const json = await w.cli(['status', '--json']);
      expect(json.code).toBe(0);
      const doc = JSON.parse(json.stdout) as {
        nodes: Array<{ name: string; memPercent: number }>;
        containers: Array<{ vmid: number; managed: boolean }>;
        operations: Array<{ workflowId: string }>;
        temporal: { reachable: boolean };
      };
      expect(doc.nodes.map((n) => n.name)).toEqual(['srv-px1', 'srv-px2']);
      expect(doc.containers.find((c) => c.vmid === 1401)).toMatchObject({ managed: true });
      expect(doc.operations.map((o) => o.workflowId)).toEqual([ctId(1400)]);
      expect(doc.temporal.reachable).toBe(true);

      // The same container is busy for any other operation: refused with 3, nothing changed.
      const before = await writes();
      const busy = await w.cli(['snapshot', '1400', 'first']);
      expect(busy.code).toBe(3);
      expect(busy.stderr).toContain(`CT 1400 is busy: another operation runs as workflow ${ctId(1400)}`);
      expect(await writes()).toBe(before);
    } finally {
      await placeholder.terminate('test over');
    }
  });

  it('still prints the cluster when Temporal is unreachable, says operations are unknown, and exits 5', async () => {
    const run = await w.cli(['status'], {
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_CONNECT_TIMEOUT_MS: '1000' },
    });
    expect(run.code).toBe(5);
    expect(run.stdout).toMatch(/srv-px1 +- +online/);
    expect(run.stdout).toContain('Operations in flight: unknown (Temporal is unreachable)');
    expect(run.stderr).toContain('Temporal is unreachable at 127.0.0.1:1');
  });

  it('exits 5 naming the API when Proxmox is unreachable, without printing the token secret', async () => {
    const run = await w.cli(['status'], { env: { PROXMOX_PORT: '1' } });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/cannot reach the Proxmox VE API \(https:\/\/127\.0\.0\.1:1 /);
    expect(run.stderr).not.toContain(s.sim.sim.token.secret);
  });
});

describe('pve-autopilot container operations', () => {
  it.each([
    [['migrate', '1499', '--to', 'srv-px2'], 1499, 'migrate: no container 1499 in the cluster'],
    [['migrate', '100', '--to', 'srv-px2'], 100, 'migrate: CT 100 (gateway) is not managed by pve-autopilot'],
    [
      ['migrate', '1401', '--to', 'srv-px9'],
      1401,
      'migrate: unknown node "srv-px9"; the cluster has srv-px1, srv-px2',
    ],
    [
      ['scale', '1401', '--memory', '2G'],
      1401,
      'scale: --memory: expected an integer from 16 to 4194304, got "2G"',
    ],
    [['drop', 'abc'], null, 'drop: vmid: expected an integer from 100 to 999999999, got "abc"'],
  ])('%j exits 2 with a clear message and starts nothing', async (args, vmid, message) => {
    const before = await writes();
    const run = await w.cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
    expect(await writes()).toBe(before);
    if (vmid !== null) expect(await workflowExists(ctId(vmid))).toBe(false);
  });

  it('refuses (exit 3) a migrate that would break a strict affinity rule, naming it, and starts nothing', async () => {
    const at = (await ctView(s.sim, 1401))?.node;
    const other = at === 'srv-px1' ? 'srv-px2' : 'srv-px1';
    const pinned = join(dirname(w.configPath), 'pinned.yaml');
    await writeFile(
      pinned,
      [
        `cluster: { name: ${w.cluster} }`,
        'affinity:',
        '  rules:',
        `    - { name: licensed, kind: pin, vmids: [1401], nodes: [${at}], strict: true }`,
        '',
      ].join('\n'),
    );
    const before = await writes();
    const run = await w.cli(['migrate', '1401', '--to', other], { env: { PVE_AUTOPILOT_CONFIG: pinned } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `migrate: CT 1401 allowed only on ${at}, against the strict pin rule 'licensed'`,
    );
    expect(run.stdout).toBe('');
    expect(await writes()).toBe(before);
    expect(await workflowExists(ctId(1401))).toBe(false);
  });

  it('migrate moves a container, printing the workflow, its link and each step, and exits 0', async () => {
    const run = await w.cli(['migrate', '1401', '--to', 'srv-px2']);
    expect(run.stderr).toBe(
      ['preflight', 'shutdown', 'migrate', 'start', 'verify', 'done']
        .map((st, i) => `  step ${i + 1}: ${st}\n`)
        .join(''),
    );
    expect(run.stdout).toBe(
      [
        'Started: migrate CT 1401 to srv-px2',
        `  workflow ${ctId(1401)}  ${uiHost()}/namespaces/default/workflows/${ctId(1401)}`,
        'Succeeded: CT 1401 moved srv-px1 → srv-px2, running',
        '',
      ].join('\n'),
    );
    expect(run.code).toBe(0);
    expect(await ctView(s.sim, 1401)).toMatchObject({ node: 'srv-px2', status: 'running' });
  });

  it('migrate --json prints one document with the outcome and steps, and no progress', async () => {
    const run = await w.cli(['migrate', '1401', '--to', 'srv-px1', '--mode', 'restart', '--json'], {
      env: { TEMPORAL_UI_URL: 'https://ui.example.org' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      workflowId: ctId(1401),
      url: `https://ui.example.org/namespaces/default/workflows/${ctId(1401)}`,
      outcome: 'succeeded',
      result: expect.objectContaining({
        outcome: 'succeeded',
        node: 'srv-px1',
        steps: expect.arrayContaining(['restart-migrate']),
      }),
    });
    expect(await ctView(s.sim, 1401)).toMatchObject({ node: 'srv-px1' });
  });

  it('a migration the saga refuses exits 3 with its reason; the run completed, not failed', async () => {
    const run = await w.cli(['migrate', '1402', '--to', 'srv-px2']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/\nmigrate of CT 1402 refused: CT 1402 is already on srv-px2\n$/);
    const saga = s.env.client.workflow.getHandle(ctId(1402));
    expect((await saga.describe()).status.name).toBe('COMPLETED');

    const json = await w.cli(['migrate', '1402', '--to', 'srv-px2', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      workflowId: ctId(1402),
      outcome: 'refused',
      result: { operation: 'migrate', outcome: 'refused', detail: 'CT 1402 is already on srv-px2' },
      failure: { type: 'Refused', message: 'migrate of CT 1402 refused: CT 1402 is already on srv-px2' },
    });
  });

  it('--no-wait returns at once with the workflow id; the operation goes on', async () => {
    const run = await w.cli(['migrate', '1403', '--to', 'srv-px1', '--no-wait', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { workflowId: string; outcome: string };
    expect(doc).toMatchObject({ workflowId: ctId(1403), outcome: 'started' });
    await s.run(() => s.env.client.workflow.getHandle(doc.workflowId).result());
    expect(await ctView(s.sim, 1403)).toMatchObject({ node: 'srv-px1', status: 'stopped' });
  });
});

describe('pve-autopilot container operations: other sagas and outcomes', () => {
  it('a migration whose step fails is rolled back: exit 1', async () => {
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzmigrate', times: 1 });
    try {
      const run = await w.cli(['migrate', '1401', '--to', 'srv-px2']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /\nmigrate of CT 1401 rolled back: .*CT 1401 is back on srv-px1, running\n$/,
      );
      expect(run.stderr).toContain('compensate');
      expect(await ctView(s.sim, 1401)).toMatchObject({ node: 'srv-px1', status: 'running' });
    } finally {
      await s.sim.admin('DELETE', '/_sim/faults');
    }
  });

  it('a saga that cannot roll back needs attention: exit 4 and the link to look at', async () => {
    // The start on the target fails, and the move back is refused with a 403: a permission no
    // retry can fix, so the compensation gives up at once (failed tasks alone it retries for minutes).
    await s.sim.admin('POST', '/_sim/faults', { taskType: 'vzstart', times: 1 });
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'POST',
      path: '/nodes/srv-px2/lxc/1400/migrate',
      status: 403,
    });
    try {
      const run = await w.cli(['migrate', '1400', '--to', 'srv-px2']);
      expect(run.code).toBe(4);
      expect(run.stdout).toMatch(
        /\nmigrate of CT 1400 needs attention: .*\n {2}look at http.*\/workflows\/ct-e2e-\w+-1400\n$/,
      );
    } finally {
      await s.sim.admin('DELETE', '/_sim/faults');
    }
  });

  it('scale changes cores and memory and exits 0', async () => {
    const run = await w.cli(['scale', '1402', '--cores', '2', '--memory', '3072']);
    expect(run.stdout).toContain('Started: scale CT 1402: cores 2, memory 3072 MiB');
    expect(run.code).toBe(0);
    expect(await ctView(s.sim, 1402)).toMatchObject({ cores: 2, memory: 3072, status: 'running' });
  });

  it('snapshot and rollback succeed; a rollback to a missing snapshot is refused with 3', async () => {
    const snap = await w.cli(['snapshot', '1402', 'before-test']);
    expect(snap.stdout).toMatch(/Succeeded: .*before-test/);
    expect(snap.code).toBe(0);
    expect(await s.sim.pve.snapshots('srv-px2', 1402)).toContainEqual(
      expect.objectContaining({ name: 'before-test' }),
    );

    const back = await w.cli(['rollback', '1402', 'before-test']);
    expect(back.stdout).toContain('Succeeded:');
    expect(back.code).toBe(0);

    const missing = await w.cli(['rollback', '1402', 'never-taken']);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain("CT 1402 has no snapshot named 'never-taken'");
  });

  it('drop --mode stop --snapshot stops the container after a snapshot, as JSON', async () => {
    const run = await w.cli(['drop', '1401', '--mode', 'stop', '--snapshot', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ workflowId: ctId(1401), outcome: 'succeeded' });
    expect(await ctView(s.sim, 1401)).toMatchObject({ node: 'srv-px1', status: 'stopped' });
  });
});

describe('pve-autopilot generator', () => {
  it('starts once from the config, pauses, resumes, reports its choices and stops', async () => {
    const id = `generator-${w.cluster}`;
    const never = await w.cli(['generator', 'status']);
    expect(never).toMatchObject({ code: 0, stdout: expect.stringContaining('was never started') });

    // A 0 % limit would never create anything: refused from the config, before anything starts.
    const zero = join(tmpdir(), `pve-autopilot-zero-${w.cluster}.yaml`);
    await writeFile(zero, `cluster:\n  name: ${w.cluster}-zero\ngenerator:\n  limitPercent: 0\n`);
    const rejected = await w.cli(['generator', 'start', '--config', zero]);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain(
      'config error: generator.limitPercent: expected a number greater than 0',
    );
    expect(await workflowExists(`generator-${w.cluster}-zero`)).toBe(false);

    const started = await w.cli(['generator', 'start', '--seed', '7']);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      `Started the generator of cluster ${w.cluster}: generator: one container every 1 s`,
    );
    expect(started.stdout).toContain(`workflow ${id}`);
    const handle = s.env.client.workflow.getHandle(id);

    const again = await w.cli(['generator', 'start']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(
      `the generator of cluster ${w.cluster} is already running as workflow ${id}`,
    );

    const paused = await w.cli(['generator', 'pause']);
    expect(paused).toMatchObject({ code: 0, stdout: `Generator of cluster ${w.cluster}: paused\n` });
    const json = await w.cli(['generator', 'status', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      workflowId: id,
      running: true,
      state: { runState: 'paused' },
    });

    const resumed = await w.cli(['generator', 'resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/: (running|backing-off)\n$/);
    await s.run(async () => {
      for (;;) {
        const { counters } = await handle.query<{ counters: Record<string, number> }>('generatorStatus');
        if (Object.values(counters).some((n) => n > 0)) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    const status = await w.cli(['generator', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/arrivals: one container every 1 s\n/);
    expect(status.stdout).toMatch(/TIME \(UTC\) +NODE +MEMORY +VMID +OUTCOME/);
    expect(status.stdout).toMatch(
      /\d\d:\d\d:\d\d +- +0 MiB +- +skipped-capacity +every node is at or over the 0.1 % generation limit/,
    );

    const stopped = await w.cli(['generator', 'stop']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/: (stopping|stopped)\n$/);
    await s.run(() => handle.result());
    const late = await w.cli(['generator', 'pause']);
    expect(late.code).toBe(3);
    expect(late.stderr).toContain(`the generator of cluster ${w.cluster} is not running (it is completed)`);
  });
});

describe('pve-autopilot manager', () => {
  it('starts in recommend mode, shows its decisions, approves by id, pauses, resumes and stops', async () => {
    const id = `cluster-manager-${w.cluster}`;
    const started = await w.cli(['manager', 'start', '--automation', 'recommend', '--seed', '3']);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      'cluster manager: automation recommend, a cycle every 10 s, rules: lab (migrate over 1 %, drop over 2 %)',
    );
    const again = await w.cli(['manager', 'start']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('is already running');

    const handle = s.env.client.workflow.getHandle(id);
    type Decisions = { core: { decisions: Array<{ id: string; status: string }> } };
    const recommended = await s.run(async () => {
      for (;;) {
        const state = await handle.query<Decisions>('managerStatus');
        const found = state.core.decisions.filter((d) => d.status === 'recommended');
        if (found.length > 0) return found;
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    const first = recommended[0]?.id ?? '';

    const status = await w.cli(['manager', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`Cluster manager of cluster ${w.cluster}: running, automation recommend, cycle \\d+\\n`),
    );
    expect(status.stdout).toMatch(/NODE +STATUS +MANAGED % +USED % +CTS\nsrv-px1 +online /);
    expect(status.stdout).toMatch(
      new RegExp(`\\n${first} +\\d\\d:\\d\\d:\\d\\d +recommended +(drop|migrate) CT \\d+ `),
    );
    expect(status.stdout).toContain('Approve with: pve-autopilot manager approve ID... (or --all)');

    const plan = await w.cli(['plan', '--json']);
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as {
      state: string;
      actions: Array<{ rule: string; level: string; reason: string }>;
    };
    expect(planned.state).toContain('from the running manager');
    expect(planned.actions.length).toBeGreaterThan(0);
    // Recommend mode: what the manager recommends now, and nothing it would start on its own.
    expect(
      planned.actions.every((a) => a.rule === 'lab' && a.level === 'recommend' && a.reason.length > 0),
    ).toBe(true);
    const humanPlan = await w.cli(['plan']);
    expect(humanPlan.stdout).toMatch(
      /Plan for cluster .* \(nothing is started\)\n {2}rules: lab \(auto, priority 40\)/,
    );
    expect(humanPlan.stdout).toMatch(/RULE +LEVEL +ACTION +REASON\nlab +recommend +(drop|migrate) CT \d+/);

    const unknown = await w.cli(['manager', 'approve', 'c99-9']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("the cluster manager refused: ids: no recommended decision 'c99-9'");

    const approved = await w.cli(['manager', 'approve', first]);
    expect(approved).toMatchObject({ code: 0, stdout: `Approved: ${first}\n` });

    const tuned = await w.cli(['manager', 'set', 'thresholds', 'migratePercent=1.5', 'dropPercent=3']);
    expect(tuned).toMatchObject({ code: 0, stdout: 'Thresholds now: migrate over 1.5 %, drop over 3 %\n' });
    const typo = await w.cli(['manager', 'set', 'thresholds', 'migratePrecent=2']);
    expect(typo.code).toBe(3);
    expect(typo.stderr).toContain('migratePrecent: unknown threshold');
    const tooHigh = await w.cli(['manager', 'set', 'thresholds', 'migratePercent=5']);
    expect(tooHigh.code).toBe(3);
    expect(tooHigh.stderr).toContain('dropPercent: expected a number between lab.migratePercent (5) and 100');
    const ruleLevel = await w.cli(['manager', 'set', 'automation', 'off', '--rule', 'lab']);
    expect(ruleLevel).toMatchObject({ code: 0, stdout: 'Automation of rule lab now: off\n' });
    const unknownRule = await w.cli(['manager', 'set', 'automation', 'auto', '--rule', 'balanse']);
    expect(unknownRule.code).toBe(3);
    expect(unknownRule.stderr).toContain(`rule: expected one of ${ruleNames.join(', ')}, got "balanse"`);
    const badLevel = await w.cli(['manager', 'set', 'automation', 'sometimes']);
    expect(badLevel.code).toBe(2);
    await w.cli(['manager', 'set', 'automation', 'auto', '--rule', 'lab']);

    const paused = await w.cli(['manager', 'pause']);
    expect(paused).toMatchObject({ code: 0, stdout: `Cluster manager of cluster ${w.cluster}: paused\n` });
    const resumed = await w.cli(['manager', 'resume', '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ workflowId: id, state: { runState: 'running' } });

    const stopped = await w.cli(['manager', 'stop']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/: (stopping|stopped)\n$/);
    const final = (await s.run(() => handle.result())) as Decisions;
    expect(final.core.decisions.find((d) => d.id === first)?.status).toMatch(/^(approved|succeeded|failed)$/);
  });
});
