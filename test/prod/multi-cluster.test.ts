// Three pve-sim clusters driven by one deployment: one config with a clusters: list, two worker
// processes that each serve every cluster on its own task queue, and a manager per cluster started
// through the CLI with --cluster. Each cluster's workflows run under its own ids against its own
// Proxmox, and a cluster whose API hangs does not hold up the others' cycles.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { clusterManagerWorkflowId, managerStatusQuery } from '../../workflows/messages';
import { connectTestEnv } from '../support/temporal';
import { startTestSim, type TestSim } from '../support/sim';
import { startConfiguredWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { ctView } from '../support/saga-env';

const run = Math.random().toString(36).slice(2, 8);
const names = ['a', 'b', 'c'].map((n) => `mc-${run}-${n}`);
const queueOf = (name: string) => `pve-autopilot-${name}`;

let env: TestWorkflowEnvironment;
const sims: TestSim[] = [];
const workers: WorkerProcess[] = [];
let configFile: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--config', configFile, ...args],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  env = await connectTestEnv();
  for (let i = 0; i < 3; i++) sims.push(await startTestSim({ clock: { mode: 'realtime', speed: 10 } }));
  const entries = names.map((name, i) => {
    const s = sims[i]!.sim;
    return [
      `  - name: ${name}`,
      `    taskQueue: ${queueOf(name)}`,
      `    proxmox: { host: ${s.host}, port: ${s.port}, tokenId: '${s.token.id}', tokenSecret: ${s.token.secret}, caFile: ${s.caFile} }`,
    ].join('\n');
  });
  configFile = join(await mkdtemp(join(tmpdir(), 'multi-cluster-')), 'pve-autopilot.yaml');
  // recommend: every manager observes and decides each second, and acts only on approval.
  await writeFile(
    configFile,
    ['manager: { automation: recommend, cycleSeconds: 1 }', 'clusters:', ...entries, ''].join('\n'),
  );
  for (let i = 0; i < 2; i++) workers.push(startConfiguredWorkerProcess(configFile));
  await Promise.all(workers.map((w) => w.ready));
});
afterAll(async () => {
  for (const name of names) {
    await env.client.workflow
      .getHandle(clusterManagerWorkflowId(name))
      .terminate('test over')
      .catch(() => undefined);
  }
  await Promise.all(workers.map((w) => w.kill()));
  for (const s of sims) await s.stop();
  await env?.teardown();
});

async function cycles(): Promise<number[]> {
  return Promise.all(
    names.map(
      async (n) =>
        (await env.client.workflow.getHandle(clusterManagerWorkflowId(n)).query(managerStatusQuery)).cycle,
    ),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('three clusters, one deployment of two workers', { timeout: 300_000 }, () => {
  it('each cluster has its manager under its own id, on its own queue, cycling independently', async () => {
    for (const name of names) {
      const started = await cli(['--cluster', name, 'manager', 'start']);
      expect(started.code, started.stderr).toBe(0);
    }
    for (const name of names) {
      const { raw } = await env.client.workflow.getHandle(clusterManagerWorkflowId(name)).describe();
      expect(raw.executionConfig?.taskQueue?.name).toBe(queueOf(name));
    }
    const status = await cli(['--cluster', names[1]!, '--json', 'manager', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      workflowId: `cluster-manager-${names[1]}`,
      running: true,
    });
    // Without --cluster the CLI asks which one.
    const ambiguous = await cli(['manager', 'status']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`the config names several clusters (${names.join(', ')})`);

    // Every manager cycles: each has passed a few cycles within half a minute.
    const until = Date.now() + 60_000;
    while ((await cycles()).some((c) => c < 3) && Date.now() < until) await sleep(500);
    expect(Math.min(...(await cycles()))).toBeGreaterThanOrEqual(3);
  });

  it("a container operation runs on its cluster's queue against its cluster's Proxmox", async () => {
    const [, , c] = names;
    const before = await Promise.all(sims.map((s) => ctView(s, 1401)));
    const moved = await cli(['--cluster', c!, 'migrate', '1401', '--to', 'srv-px2']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`ct-${c}-1401`);
    const { raw } = await env.client.workflow.getHandle(`ct-${c}-1401`).describe();
    expect(raw.executionConfig?.taskQueue?.name).toBe(queueOf(c!));
    const after = await Promise.all(sims.map((s) => ctView(s, 1401)));
    expect(after[2]).toEqual({ ...before[2], node: 'srv-px2' });
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2)); // the other clusters' CT 1401 did not move
  });

  it("a cluster whose API hangs does not slow the others' managers", async () => {
    // Cluster b's /cluster/resources stops answering: its observation waits out its timeouts.
    await sims[1]!.admin('POST', '/_sim/faults', { method: 'GET', path: '/cluster/resources', hang: true });
    await sleep(3000); // let b's manager get stuck in its observation
    const start = await cycles();
    await sleep(15_000);
    const end = await cycles();
    const advanced = end.map((e, i) => e - start[i]!);
    // a and c go on at about one cycle a second; b has not finished one cycle in the same time.
    expect(advanced[0]).toBeGreaterThanOrEqual(5);
    expect(advanced[2]).toBeGreaterThanOrEqual(5);
    expect(advanced[1]).toBeLessThanOrEqual(1);
  });
});
