// `npm run bench:fleet -- --clusters 10 --containers 2000 --workers 3`: pve-autopilot at fleet scale
// on the production shape. PostgreSQL and the self-hosted Temporal server (as stack:prod), pve-sim
// clusters hosted in this process (fleet-<N>: N containers each), W worker processes serving every
// cluster on its own task queue, and an idle cluster manager per cluster (recommend mode: each cycle
// observes and decides, and starts nothing). Measured with one cluster's manager running, then with
// all of them: manager cycle time, API requests per idle cycle per cluster, worker and Temporal
// server CPU and RSS, and the manager's history per cycle and per run. `--json` prints one document.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, WorkflowIdConflictPolicy, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { Agent, fetch } from 'undici';
import { startProdStack, type ProdStack } from './lib/prod-stack';
import { startChild, stopChild, type Child } from './lib/child';
import { startSimulator, type RunningSim } from '../simulator/index';
import { workflowsPath } from '../worker/create-worker';
import { clustersOf, coreSettingsOf, parseConfig, ruleConfigsOf } from '../src/config';
import { clusterManagerWorkflowId, managerStatusQuery, type ManagerInput } from '../workflows/messages';
import { integer } from './lib/options';

/**
 * A manager run ends (continue-as-new) after 500 cycles (workflows/cluster-manager.ts), or earlier
 * when the server suggests it: at 4 MiB or 4,096 events of history (Temporal's defaults,
 * limit.historySize/historyCount.suggestContinueAsNew).
 */
const CYCLES_PER_RUN = 500;
const SUGGEST_BYTES = 4 * 1024 * 1024;
const SUGGEST_EVENTS = 4096;
const CLOCK_TICKS = 100; // USER_HZ on Linux

const log = (line: string) => process.stderr.write(`[bench:fleet] ${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      clusters: { type: 'string', default: '10' },
      containers: { type: 'string', default: '2000' },
      workers: { type: 'string', default: '3' },
      'cycle-seconds': { type: 'string', default: '10' },
      cycles: { type: 'string', default: '6' },
      json: { type: 'boolean', default: false },
      'temporal-port': { type: 'string', default: '7533' },
      'membership-port': { type: 'string', default: '7633' },
      'pg-port': { type: 'string', default: '5435' },
      'data-dir': { type: 'string', default: '.data-prod-bench' },
    },
    strict: true,
  });
  return {
    clusters: integer('clusters', values.clusters, 1, 10),
    containers: integer('containers', values.containers, 1, 10_000),
    workers: integer('workers', values.workers, 1, 16),
    cycleSeconds: integer('cycle-seconds', values['cycle-seconds'], 1, 600),
    cycles: integer('cycles', values.cycles, 2, 1000),
    json: values.json,
    temporalPort: integer('temporal-port', values['temporal-port'], 1, 65_505),
    membershipPort: integer('membership-port', values['membership-port'], 1, 32_764),
    pgPort: integer('pg-port', values['pg-port'], 1, 65_535),
    dataDir: values['data-dir'],
  };
}

interface ProcSample {
  ticks: number;
  rssKiB: number;
}

async function sample(pid: number): Promise<ProcSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { ticks, rssKiB };
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SimHandle {
  name: string;
  taskQueue: string;
  sim: RunningSim;
  requests(): Promise<number>;
}

async function startSims(n: number, containers: number, dataDir: string): Promise<SimHandle[]> {
  const sims: SimHandle[] = [];
  for (let i = 1; i <= n; i++) {
    const sim = await startSimulator({
      scenario: `fleet-${containers}`,
      seed: i,
      port: 0,
      clock: { mode: 'realtime', speed: 1 },
      dataDir: join(dataDir, 'pve-sim', `bench${i}`),
      quiet: true,
    });
    const dispatcher = new Agent({ connect: { ca: sim.caPem } });
    sims.push({
      name: `bench${i}`,
      taskQueue: `pve-autopilot-bench${i}`,
      sim,
      // Every API request the sim served, whatever the path; the admin API is not counted.
      requests: async () => {
        const res = await fetch(`${sim.url}/_sim/counters`, { dispatcher });
        const counters = ((await res.json()) as { data: Record<string, number> }).data;
        return Object.values(counters).reduce((a, b) => a + b, 0);
      },
    });
  }
  return sims;
}

function configText(address: string, sims: SimHandle[]): string {
  const lines = [
    'temporal:',
    `  address: ${address}`,
    // Idle managers: recommend mode decides every cycle but starts nothing without approval (a
    // fleet-<N> node can be allocated past 100 %), so each cycle is one observation and no saga.
    'scope: { vmidMin: 10000, vmidMax: 19999 }',
    'manager: { automation: recommend }',
    'lab: { migratePercent: 100, dropPercent: 100 }',
    'clusters:',
  ];
  for (const s of sims) {
    lines.push(
      `  - name: ${s.name}`,
      `    taskQueue: ${s.taskQueue}`,
      `    proxmox: { host: ${s.sim.host}, port: ${s.sim.port}, tokenId: '${s.sim.token.id}', tokenSecret: ${s.sim.token.secret}, caFile: ${s.sim.caFile} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/**
 * The current run's history, a page at a time (a manager's history near its 4 MiB continue-as-new
 * point does not fit one gRPC message), with its size as the server stores it (protobuf-encoded).
 */
async function currentRun(
  client: Client,
  workflowId: string,
): Promise<{ events: HistoryEvent[]; bytes: number }> {
  const events: HistoryEvent[] = [];
  let bytes = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 50,
      nextPageToken,
    });
    const page = res.history?.events ?? [];
    bytes += proto.temporal.api.history.v1.History.encode({ events: page }).finish().byteLength;
    events.push(...page);
    nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
  } while (nextPageToken);
  return { events, bytes };
}

const isObserve = (e: HistoryEvent) =>
  e.activityTaskScheduledEventAttributes?.activityType?.name === 'observeCluster';

/** Cycle time: from scheduling observeCluster to the end of the workflow task that decided on it. */
function cycleTimes(events: HistoryEvent[], sinceMs: number): number[] {
  const time = (e: HistoryEvent) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const out: number[] = [];
  events.forEach((e, i) => {
    if (!isObserve(e) || time(e) < sinceMs) return;
    const completed = events.findIndex(
      (x, j) =>
        j > i && String(x.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(e.eventId),
    );
    const decided = events.findIndex((x, j) => j > completed && x.workflowTaskCompletedEventAttributes);
    if (completed > 0 && decided > 0) out.push(time(events[decided]!) - time(e));
  });
  return out;
}

/** Waits until every worker polls every cluster's queue, so start-up is not measured. */
async function waitForPollers(client: Client, queues: string[], pids: number[]): Promise<void> {
  const until = Date.now() + 180_000;
  for (const name of queues) {
    for (;;) {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const ours = (pollers ?? []).filter((p) => pids.some((pid) => p.identity?.startsWith(`${pid}@`)));
      if (ours.length >= pids.length) break;
      if (Date.now() > until) throw new Error(`not all ${pids.length} workers poll ${name} after 3 minutes`);
      await sleep(1000);
    }
  }
}

interface PhaseResult {
  clusters: number;
  cycleMsP50: number;
  cycleMsP95: number;
  requestsPerIdleCyclePerCluster: number;
  workerCpuPercent: number;
  workerRssMiB: number;
  serverCpuPercent: number;
  serverRssMiB: number;
  historyEventsPerCycle: number;
  historyKiBPerCycle: number;
  cyclesPerRun: number;
  historyEventsPerRun: number;
  historyMiBPerRun: number;
}

async function measure(
  stack: ProdStack,
  client: Client,
  sims: SimHandle[],
  workers: Child[],
  opts: ReturnType<typeof options>,
): Promise<PhaseResult> {
  const handles = sims.map((s) => client.workflow.getHandle(clusterManagerWorkflowId(s.name)));
  const cycleOf = async (h: WorkflowHandle) => (await h.query(managerStatusQuery)).cycle;
  await sleep(2 * opts.cycleSeconds * 1000); // warm-up: every manager has cycled since it started
  const pids = [stack.server().process.pid!, ...workers.map((w) => w.process.pid!)];
  const t0 = Date.now();
  const before = await Promise.all(pids.map(sample));
  const cyclesBefore = await Promise.all(handles.map(cycleOf));
  const requestsBefore = await Promise.all(sims.map((s) => s.requests()));
  await sleep(opts.cycles * opts.cycleSeconds * 1000);
  const wallS = (Date.now() - t0) / 1000;
  const after = await Promise.all(pids.map(sample));
  const cyclesAfter = await Promise.all(handles.map(cycleOf));
  const requestsAfter = await Promise.all(sims.map((s) => s.requests()));
  const runs = await Promise.all(sims.map((x) => currentRun(client, clusterManagerWorkflowId(x.name))));

  const cpu = (i: number) => ((after[i]!.ticks - before[i]!.ticks) / CLOCK_TICKS / wallS) * 100;
  const perCluster = sims.map((_, i) => {
    const cycles = cyclesAfter[i]! - cyclesBefore[i]!;
    return cycles > 0 ? (requestsAfter[i]! - requestsBefore[i]!) / cycles : NaN;
  });
  const times = runs.flatMap((r) => cycleTimes(r.events, t0));
  // Per cycle, from the first cluster's current run: everything it holds divided by its cycles.
  const first = runs[0]!;
  const runSoFar = Math.max(1, first.events.filter(isObserve).length);
  const eventsPerCycle = first.events.length / runSoFar;
  const bytesPerCycle = first.bytes / runSoFar;
  const runCycles = Math.min(
    CYCLES_PER_RUN,
    Math.ceil(SUGGEST_BYTES / bytesPerCycle),
    Math.ceil(SUGGEST_EVENTS / eventsPerCycle),
  );
  return {
    clusters: sims.length,
    cycleMsP50: percentile(times, 50),
    cycleMsP95: percentile(times, 95),
    requestsPerIdleCyclePerCluster: perCluster.reduce((a, b) => a + b, 0) / perCluster.length,
    workerCpuPercent: workers.reduce((sum, _, i) => sum + cpu(i + 1), 0),
    workerRssMiB: Math.max(...workers.map((_, i) => after[i + 1]!.rssKiB)) / 1024,
    serverCpuPercent: cpu(0),
    serverRssMiB: after[0]!.rssKiB / 1024,
    historyEventsPerCycle: eventsPerCycle,
    historyKiBPerCycle: bytesPerCycle / 1024,
    cyclesPerRun: runCycles,
    historyEventsPerRun: eventsPerCycle * runCycles,
    historyMiBPerRun: (bytesPerCycle * runCycles) / 1024 / 1024,
  };
}

function table(opts: ReturnType<typeof options>, one: PhaseResult, all: PhaseResult): string {
  const rows: Array<[string, (r: PhaseResult) => number, number]> = [
    ['manager cycle time p50 (ms)', (r) => r.cycleMsP50, 0],
    ['manager cycle time p95 (ms)', (r) => r.cycleMsP95, 0],
    ['API requests per idle cycle per cluster', (r) => r.requestsPerIdleCyclePerCluster, 2],
    [`worker CPU, all ${opts.workers} (% of a core)`, (r) => r.workerCpuPercent, 1],
    ['worker RSS, largest (MiB)', (r) => r.workerRssMiB, 0],
    ['Temporal server CPU (% of a core)', (r) => r.serverCpuPercent, 1],
    ['Temporal server RSS (MiB)', (r) => r.serverRssMiB, 0],
    ['history per manager cycle (events)', (r) => r.historyEventsPerCycle, 1],
    ['history per manager cycle (KiB)', (r) => r.historyKiBPerCycle, 1],
    ['manager run length before continue-as-new (cycles)', (r) => r.cyclesPerRun, 0],
    ['history per manager run (events)', (r) => r.historyEventsPerRun, 0],
    ['history per manager run (MiB)', (r) => r.historyMiBPerRun, 2],
  ];
  const head = ['figure', '1 cluster', `${all.clusters} clusters`, 'growth'];
  const body = rows.map(([name, get, digits]) => [
    name,
    get(one).toFixed(digits),
    get(all).toFixed(digits),
    `x${(get(all) / get(one)).toFixed(2)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `bench:fleet: ${opts.clusters} clusters x ${opts.containers} containers, ${opts.workers} workers, ` +
      `${opts.cycleSeconds} s cycles, ${opts.cycles} cycles measured per phase`,
    fmt(head),
    ...body.map(fmt),
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = options();
  const stack = await startProdStack({
    dataDir: opts.dataDir,
    temporalPort: opts.temporalPort,
    membershipPort: opts.membershipPort,
    pgPort: opts.pgPort,
    metricsPort: 0,
    simPort: 0,
    clusters: 0,
    simScenario: 'lab-2node',
    simSpeed: 1,
    workers: 0,
    log,
  });
  const workers: Child[] = [];
  let sims: SimHandle[] = [];
  const client = new Client({ connection: stack.connection(), namespace: stack.namespace });
  try {
    log(`starting ${opts.clusters} pve-sim clusters of ${opts.containers} containers in this process`);
    sims = await startSims(opts.clusters, opts.containers, stack.dataDir);
    const configFile = join(stack.dataDir, 'bench-fleet.yaml');
    await writeFile(configFile, configText(stack.address, sims), { mode: 0o600 });
    const bundlePath = join(stack.dataDir, 'workflow-bundle.js');
    await writeFile(bundlePath, (await bundleWorkflowCode({ workflowsPath, logger: quiet })).code);
    for (let i = 1; i <= opts.workers; i++) {
      workers.push(
        startChild(`worker-${i}`, process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
          logFile: join(stack.logDir, `bench-worker-${i}.log`),
          env: {
            ...process.env,
            PVE_AUTOPILOT_CONFIG: configFile,
            TEMPORAL_ADDRESS: stack.address,
            METRICS_ADDRESS: 'off',
            WORKFLOW_BUNDLE_PATH: bundlePath,
          },
        }),
      );
    }
    const clusters = clustersOf(parseConfig(await readFile(configFile, 'utf8')));
    await waitForPollers(
      client,
      clusters.map((c) => c.taskQueue),
      workers.map((w) => w.process.pid!),
    );
    await sleep(10_000); // past the workers' start-up (JIT, first polls)
    const start = async (i: number) => {
      const c = clusters[i]!;
      const input: ManagerInput = {
        cluster: c.name,
        settings: coreSettingsOf(c.config),
        rules: ruleConfigsOf(c.config),
        automation: c.config.manager.automation,
        cycleSeconds: opts.cycleSeconds,
        seed: i + 1,
      };
      await client.workflow.start('clusterManagerWorkflow', {
        taskQueue: c.taskQueue,
        workflowId: clusterManagerWorkflowId(c.name),
        args: [input],
        // A manager left by an earlier run of the benchmark (the data dir is kept) is replaced.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
      });
    };
    log('phase 1: one cluster manager');
    await start(0);
    const one = await measure(stack, client, sims.slice(0, 1), workers, opts);
    log(`phase 2: ${opts.clusters} cluster managers`);
    for (let i = 1; i < opts.clusters; i++) await start(i);
    const all = await measure(stack, client, sims, workers, opts);
    if (opts.json) {
      console.log(
        JSON.stringify({ options: { ...opts, json: undefined }, oneCluster: one, allClusters: all }, null, 2),
      );
    } else {
      console.log(table(opts, one, all));
    }
  } finally {
    for (const s of sims) {
      await client.workflow
        .getHandle(clusterManagerWorkflowId(s.name))
        .terminate('benchmark over')
        .catch(() => undefined);
    }
    for (const w of workers) await stopChild(w, 'SIGTERM', 15_000);
    for (const s of sims) await s.sim.stop();
    await stack.stop();
  }
}

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
