// Benchmark of one migrate saga on pve-sim's fleet-large (50 nodes, 2,000 CTs): the size of its
// workflow history, the API requests it made, how many of them read the whole cluster, and how many
// polled a task's status. pve-sim runs at real speed, so the migration (picked to move about 2.7 GiB
// of disk) is a task of about 30 s, as on a real cluster.
// `npm run bench:saga` prints a table; `npm run bench:saga -- --json` prints one JSON document.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { Agent, fetch } from 'undici';
import { startSimulator } from '../simulator/index';
import { createPveClient } from '../src/proxmox';
import { createProxmoxActivities } from '../activities/proxmox';
import { workflowsPath } from '../worker/create-worker';
import type { migrateContainerWorkflow } from '../workflows/sagas/migrate';
import type { ManagedScope } from '../src/domain';
import { startDevServer } from './lib/dev-server';
import { unreadMetricsSinks } from '../worker/metrics-sinks';

const json = process.argv.includes('--json');
const say = (line: string) => {
  if (!json) process.stderr.write(`[bench-saga] ${line}\n`);
};
const GiB = 1024 ** 3;
const scope: ManagedScope = { vmidMin: 10000, vmidMax: 11999 };
const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined };
Runtime.install({
  logger: { ...quiet, info: () => undefined, warn: () => undefined, error: (m: string) => say(m) },
});

const dataDir = await mkdtemp(join(tmpdir(), 'bench-saga-'));
say('starting pve-sim fleet-large and the Temporal dev server');
const sim = await startSimulator({
  scenario: 'fleet-large',
  port: 0,
  clock: { mode: 'realtime', speed: 1 },
  dataDir,
  quiet: true,
});
const pve = createPveClient({
  host: sim.host,
  port: sim.port,
  schema: sim.schema,
  tokenId: sim.token.id,
  tokenSecret: sim.token.secret,
  ...(sim.schema === 'https' ? { caFile: sim.caFile } : {}),
});
const server = await startDevServer();
const env = server.env;

try {
  // The running managed CT whose disk is closest to 2.7 GiB (a migration of about 30 s), moved to
  // the online node with the most free memory.
  const snapshot = await pve.clusterSnapshot();
  const candidates = snapshot.containers.filter(
    (c) =>
      c.status === 'running' && !c.lock && !c.template && c.vmid >= scope.vmidMin && c.vmid <= scope.vmidMax,
  );
  const ct = candidates.sort((a, b) => Math.abs(a.disk - 2.7 * GiB) - Math.abs(b.disk - 2.7 * GiB))[0];
  if (!ct) throw new Error('fleet-large has no running managed container');
  const target = snapshot.nodes
    .filter((n) => n.status === 'online' && n.name !== ct.node)
    .sort((a, b) => b.maxmem - b.mem - (a.maxmem - a.mem))[0];
  if (!target) throw new Error('fleet-large has no other online node');

  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { ...quiet, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const taskQueue = 'bench-saga';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: createProxmoxActivities({ pve, scope, vmidQuarantineMinutes: 10 }),
    sinks: unreadMetricsSinks(),
  });
  say(`migrating CT ${ct.vmid} (${(ct.disk / GiB).toFixed(1)} GiB of disk) ${ct.node} → ${target.name}`);
  const dispatcher = new Agent({ connect: { ca: sim.caPem } });
  const counters = async (): Promise<Record<string, number>> => {
    const res = await fetch(`${sim.url}/_sim/counters`, { dispatcher });
    return ((await res.json()) as { data: Record<string, number> }).data;
  };
  const before = await counters();

  const started = Date.now();
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof migrateContainerWorkflow>(
      'migrateContainerWorkflow',
      {
        taskQueue,
        workflowId: `bench-migrate-${ct.vmid}`,
        args: [{ vmid: ct.vmid, target: target.name, scope }],
      },
    );
    const outcome = await handle.result();
    const history = await handle.fetchHistory();
    return { outcome, history };
  });
  const seconds = (Date.now() - started) / 1000;
  const after = await counters();
  await dispatcher.close();
  const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  const apiRequests = Object.keys(after).reduce((sum, key) => sum + delta(key), 0);
  const historyBytes = proto.temporal.api.history.v1.History.encode(
    proto.temporal.api.history.v1.History.fromObject(result.history),
  ).finish().length;
  const figures = {
    containers: snapshot.containers.length,
    vmid: ct.vmid,
    outcome: result.outcome.outcome,
    seconds: Math.round(seconds * 10) / 10,
    historyBytes,
    historyEvents: result.history.events?.length ?? 0,
    apiRequests,
    fullClusterReads: delta('GET /cluster/resources'),
    taskStatusPolls: delta('GET /nodes/{node}/tasks/{upid}/status'),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else {
    const rows: [string, string][] = [
      ['containers in the cluster', String(figures.containers)],
      ['saga outcome', `${figures.outcome} in ${figures.seconds} s`],
      ['history bytes', `${figures.historyBytes} (${figures.historyEvents} events)`],
      ['API requests', String(figures.apiRequests)],
      ['full-cluster reads', String(figures.fullClusterReads)],
      ['task status polls', `${figures.taskStatusPolls} (3 tasks: shutdown, migrate ~30 s, start)`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(28)}${v}\n`);
  }
} finally {
  await server.stop();
  await pve.close();
  await sim.stop();
  await rm(dataDir, { recursive: true, force: true });
}
