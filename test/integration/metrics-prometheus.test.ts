// The worker's metrics endpoint end to end: two real worker processes (worker/main.ts) against
// pve-sim and the test Temporal server, with a cluster manager observing every second, scraped by a
// real Prometheus server on loopback. Prometheus answers PromQL for a node's memory with exactly what
// the manager observed, on both workers alike; the sagas' outcomes, counted by whichever worker ran
// them, add up to the sagas run; and the SDK's own metrics come from the same addresses.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CoreSettings } from '../../src/policy';
import { startOperation } from '../../src/temporal/starts';
import {
  clusterManagerWorkflowId,
  lastSnapshotQuery,
  managerStatusQuery,
  pauseManagerUpdate,
  type ManagerInput,
} from '../../workflows/messages';
import { PveNeedsAttention } from '../../workflows/search-attributes';
import { connectTestEnv } from '../support/temporal';
import { startTestSim, type TestSim } from '../support/sim';
import { startConfiguredWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { freePort, promtool, startPrometheus, type RunningPrometheus } from '../support/prometheus';
import { waitFor } from '../support/manual-clock';

const run = Math.random().toString(36).slice(2, 8);
const cluster = `metrics-${run}`;
const taskQueue = `pve-autopilot-${cluster}`;

let env: TestWorkflowEnvironment;
let sim: TestSim;
const workers: WorkerProcess[] = [];
let prometheus: RunningPrometheus;
let metricsUrl: string;

const settings: CoreSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 2,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: ['srv-px2'],
};

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestSim({ clock: { mode: 'realtime', speed: 10 } });
  const s = sim.sim;
  const configFile = join(await mkdtemp(join(tmpdir(), 'metrics-')), 'pve-autopilot.yaml');
  await writeFile(
    configFile,
    [
      `cluster: { name: ${cluster} }`,
      `temporal: { taskQueue: ${taskQueue} }`,
      `proxmox: { host: ${s.host}, port: ${s.port}, tokenId: '${s.token.id}', tokenSecret: ${s.token.secret}, caFile: ${s.caFile} }`,
      '',
    ].join('\n'),
  );
  const targets: string[] = [];
  for (let i = 0; i < 2; i++) {
    const target = `127.0.0.1:${await freePort()}`;
    targets.push(target);
    workers.push(startConfiguredWorkerProcess(configFile, { METRICS_ADDRESS: target }));
  }
  metricsUrl = `http://${targets[0]}/metrics`;
  await Promise.all(workers.map((w) => w.ready));
  const input: ManagerInput = {
    cluster,
    settings,
    // recommend, with thresholds nothing reaches: the manager observes every second and starts nothing.
    rules: { lab: { migratePercent: 98, dropPercent: 99, migrateChoice: 'best-fit', dropMode: 'destroy' } },
    automation: 'recommend',
    cycleSeconds: 1,
    seed: 1,
  };
  await env.client.workflow.start('clusterManagerWorkflow', {
    taskQueue,
    workflowId: clusterManagerWorkflowId(cluster),
    args: [input],
  });
  prometheus = await startPrometheus(targets);
});

afterAll(async () => {
  await env?.client.workflow
    .getHandle(clusterManagerWorkflowId(cluster))
    .terminate('test over')
    .catch(() => undefined);
  await prometheus?.stop();
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await sim?.stop();
  await env?.teardown();
});

/** The single value PromQL answers for `promql`, once Prometheus has one (it scrapes every second). */
async function scalar(promql: string, accept: (v: number) => boolean = () => true): Promise<number> {
  let last: number | undefined;
  try {
    return await waitFor(
      `PromQL ${promql}`,
      async () => {
        const result = await prometheus.query(promql);
        last = result.length === 1 ? Number(result[0]?.value[1]) : undefined;
        return last !== undefined && accept(last) ? last : undefined;
      },
      60_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer ${last}`, { cause: err });
  }
}

describe('the worker metrics, scraped by Prometheus', () => {
  it("answers PromQL for a node's memory with what the manager observed", async () => {
    const manager = env.client.workflow.getHandle(clusterManagerWorkflowId(cluster));
    await waitFor(
      'two manager cycles',
      async () => ((await manager.query(managerStatusQuery)).cycle >= 2 ? true : undefined),
      60_000,
    );
    // Paused, the manager keeps its latest observation: the gauges must show exactly that.
    await manager.executeUpdate(pauseManagerUpdate);
    const observed = await manager.query(lastSnapshotQuery);
    const px1 = observed?.nodes.find((n) => n.name === 'srv-px1');
    expect(px1?.mem).toBeGreaterThan(0);
    const sel = `cluster="${cluster}",node="srv-px1"`;
    // Both workers serve it, each with exactly the manager's figure.
    const memory = `pve_autopilot_node_memory_used_bytes{${sel}}`;
    expect(await scalar(`count(${memory})`, (v) => v === 2)).toBe(2);
    expect(await scalar(`min(${memory})`, (v) => v === px1?.mem)).toBe(px1?.mem);
    expect(await scalar(`max(${memory})`, (v) => v === px1?.mem)).toBe(px1?.mem);
    expect(await scalar(`max(pve_autopilot_node_memory_total_bytes{${sel}})`)).toBe(px1?.maxmem);
    expect(await scalar(`max(pve_autopilot_node_online{${sel},zone="srv-px1"})`)).toBe(1);
    expect(await scalar(`max(pve_autopilot_node_drained{cluster="${cluster}",node="srv-px2"})`)).toBe(1);
    const managed = observed?.containers.filter((c) => c.vmid >= 1400 && c.vmid <= 1499) ?? [];
    expect(managed.length).toBeGreaterThan(0);
    expect(
      await scalar(
        `count(max by (vmid) (pve_autopilot_container_memory_limit_bytes{cluster="${cluster}"}))`,
        (v) => v === managed.length,
      ),
    ).toBe(managed.length);
    // The cycles and their one API request each, as the worker counted them.
    expect(
      await scalar(`pve_autopilot_manager_cycle_duration_seconds_count{cluster="${cluster}"}`),
    ).toBeGreaterThan(0);
    const requests = await scalar(
      `sum(pve_autopilot_manager_cycle_api_requests_sum{cluster="${cluster}"}) / sum(pve_autopilot_manager_cycle_api_requests_count{cluster="${cluster}"})`,
    );
    expect(requests).toBe(1);
    expect(await scalar(`max(pve_autopilot_needs_attention_runs{cluster="${cluster}"})`)).toBe(0);
  });

  it("counts each saga's outcome once over the workers, and serves the SDK's metrics beside", async () => {
    const observed = await env.client.workflow
      .getHandle(clusterManagerWorkflowId(cluster))
      .query(lastSnapshotQuery);
    const vmids = (observed?.containers ?? [])
      .filter((c) => c.vmid >= 1400 && c.vmid <= 1499)
      .slice(0, 3)
      .map((c) => c.vmid);
    expect(vmids).toHaveLength(3);
    const handles = await Promise.all(
      vmids.map((vmid) =>
        startOperation(
          env.client,
          'snapshot',
          { vmid, name: `m${run}` },
          { cluster, taskQueue, reason: 'metrics test' },
        ),
      ),
    );
    await Promise.all(handles.map((h) => h.result()));
    const outcomes = `pve_autopilot_saga_outcomes_total{cluster="${cluster}",operation="snapshot",outcome="succeeded"}`;
    expect(await scalar(`sum(${outcomes})`, (v) => v >= 3)).toBe(3);
    expect(await scalar('count(count by (instance) ({__name__=~"temporal_.+"}))')).toBe(2);
  });

  it('counts a needs-attention run as open until another operation on its container ran', async () => {
    // Runs that carry the attribute as a failed saga leaves it; on a queue no worker polls, as only
    // visibility is read. The second run on the same id stands for a later operation on the CT.
    const workflowId = `ct-${cluster}-1499`;
    const open = `max(pve_autopilot_needs_attention_runs{cluster="${cluster}"})`;
    const marked = await env.client.workflow.start('needsAttentionStandIn', {
      taskQueue: `nobody-${run}`,
      workflowId,
      typedSearchAttributes: [{ key: PveNeedsAttention, value: true }],
    });
    await marked.terminate('stands for a saga that needs attention');
    expect(await scalar(open, (v) => v === 1)).toBe(1);
    const later = await env.client.workflow.start('laterOperationStandIn', {
      taskQueue: `nobody-${run}`,
      workflowId,
    });
    await later.terminate('stands for a later operation');
    expect(await scalar(open, (v) => v === 0)).toBe(0);
  });

  it('serves families that promtool check metrics accepts', async () => {
    const text = await (await fetch(metricsUrl)).text();
    // The SDK's counters lack the _total suffix promtool wants: ours are checked apart.
    const ours = text.slice(0, text.search(/^(# (HELP|TYPE) )?temporal_/m));
    expect(ours).toContain('pve_autopilot_node_memory_used_bytes{');
    expect(ours).toContain('pve_autopilot_saga_outcomes_total{');
    const lint = promtool(['check', 'metrics'], ours);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });
});
