// Benchmark of node drain on pve-sim's fleet-large (50 nodes, 2,000 CTs): drains a node holding 40
// managed containers once with K = 1 and once with K (default 4) migrations at once, each time on a
// fresh copy of the same cluster, and prints both evacuation times (the drain's start to its last
// container gone) and their ratio. pve-sim runs on an accelerated clock (--speed, default 10) so a
// run takes minutes, not hours; both runs use the same clock, so the ratio is what K buys. With
// them it prints the mean migrate saga time and how busy the K slots were, which say where a ratio
// above 1 / K goes: slower sagas (contention) or idle slots (the drain's own steps between moves).
//
//   npx tsx scripts/bench-drain.ts [--scenario fleet-large] [--drain NODE] [--parallel K] [--speed X]
//                                  [--seed N] [--json]
//
// Without --drain it picks the node with the fewest managed containers at or above 40. A node with
// more than 40 is arranged first: the extra containers are moved elsewhere with plain PVE calls.
// With --json it prints one document: {"drainSeconds": {"1": s, "K": s}, ...}.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { startSimulator, type RunningSim } from '../simulator/index';
import { coreSettingsOf, configSchema } from '../src/config';
import { createPveClient, waitForTask, type PveClient } from '../src/proxmox';
import { isManaged, type ClusterSnapshot, type ManagedScope } from '../src/domain';
import { createProxmoxActivities } from '../activities/proxmox';
import { workflowsPath } from '../worker/create-worker';
import { nodeDrainWorkflowId } from '../workflows/messages';
import {
  nodeDrainStatusQuery,
  type NodeDrainInput,
  type NodeDrainState,
} from '../workflows/node-drain-messages';
import { integer } from './lib/options';
import { startDevServer } from './lib/dev-server';

const CONTAINERS = 40;
const USAGE =
  'usage: bench-drain [--scenario fleet-large] [--drain NODE] [--parallel K] [--speed X] [--seed N] [--json]';
const scope: ManagedScope = { vmidMin: 10000, vmidMax: 11999 };

interface Options {
  node?: string;
  parallel: number;
  speed: number;
  seed: number;
  json: boolean;
}

export interface DrainBenchResult {
  node: string;
  containers: number;
  parallel: number;
  speed: number;
  drainSeconds: Record<string, number>;
  /** time with K / time with 1; the acceptance asks for at most 1.3 / K. */
  ratio: number;
  limit: number;
  leftManaged: Record<string, number>;
  /** Mean wall time of one migrate saga, start to close, per K. */
  sagaSeconds: Record<string, number>;
  /** Sum of the sagas' times / (K × evacuation time): how busy the K slots were, per K. */
  slotsBusy: Record<string, number>;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { parallel: 4, speed: 10, seed: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--drain':
        opts.node = value();
        break;
      case '--parallel':
        opts.parallel = integer('parallel', value(), 1, 32);
        break;
      case '--speed':
        opts.speed = integer('speed', value(), 1, 200);
        break;
      case '--seed':
        opts.seed = integer('seed', value(), 0, 2 ** 31);
        break;
      case '--scenario': {
        const scenario = value();
        if (scenario !== 'fleet-large')
          throw new Error(`--scenario: the drain bench runs on fleet-large, got "${scenario}"`);
        break;
      }
      case '--json':
        opts.json = true;
        break;
      default:
        throw new Error(`unknown argument "${arg}"; ${USAGE}`);
    }
  }
  return opts;
}

export async function runDrainBench(argv: string[]): Promise<DrainBenchResult> {
  const opts = parseOptions(argv);
  const say = (line: string) => {
    if (!opts.json) process.stderr.write(`[bench-drain] ${line}\n`);
  };
  const quiet = () => undefined;
  Runtime.install({
    logger: {
      log: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: quiet,
      error: (m: string) => say(m),
    },
    // The SDK core's own log lines are forwarded to this logger too: stdout carries the figures only.
    telemetryOptions: { logging: { forward: {}, filter: 'ERROR' } },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-drain-'));
  say('starting the Temporal dev server and bundling the workflows');
  const server = await startDevServer();
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const runs = [...new Set([1, opts.parallel])];
    const drainSeconds: Record<string, number> = {};
    const leftManaged: Record<string, number> = {};
    const sagaSeconds: Record<string, number> = {};
    const slotsBusy: Record<string, number> = {};
    let node = opts.node;
    for (const parallel of runs) {
      // A fresh cluster per run: the same seed gives the same start, arranged the same way.
      const sim = await startSimulator({
        scenario: 'fleet-large',
        seed: opts.seed,
        port: 0,
        clock: { mode: 'realtime', speed: opts.speed },
        dataDir,
        quiet: true,
      });
      const pve = clientOf(sim);
      try {
        node = await arrange(pve, node, say);
        const taskQueue = `bench-drain-${parallel}`;
        const worker = await Worker.create({
          connection: server.env.nativeConnection,
          taskQueue,
          workflowBundle: { code },
          // Polls scaled to the accelerated clock, as the integration tests do.
          activities: createProxmoxActivities({
            pve,
            scope,
            vmidQuarantineMinutes: 10,
            taskPollMs: 100,
            taskPollMaxMs: 1000,
          }),
        });
        say(`draining ${node} (${CONTAINERS} managed containers) with K = ${parallel}, clock x${opts.speed}`);
        const state = await worker.runUntil(() =>
          drain(server.env.client, taskQueue, node as string, parallel, say),
        );
        const seconds = ((state.drainedAt ?? Date.now()) - state.startedAt) / 1000;
        drainSeconds[String(parallel)] = Math.round(seconds * 10) / 10;
        leftManaged[String(parallel)] = managedOn(await pve.clusterSnapshot(), node);
        const sagas = await sagaTimes(server.env.client, taskQueue);
        const total = sagas.reduce((sum, t) => sum + t, 0);
        sagaSeconds[String(parallel)] = Math.round((total / Math.max(1, sagas.length)) * 100) / 100;
        slotsBusy[String(parallel)] = Math.round((total / (parallel * seconds)) * 100) / 100;
        say(
          `K = ${parallel}: ${state.moved.length} moved in ${drainSeconds[String(parallel)]} s, ${leftManaged[String(parallel)]} managed left`,
        );
      } finally {
        await pve.close();
        await sim.stop();
      }
    }
    const one = drainSeconds['1'] ?? NaN;
    const k = drainSeconds[String(opts.parallel)] ?? NaN;
    const result: DrainBenchResult = {
      node: node ?? '',
      containers: CONTAINERS,
      parallel: opts.parallel,
      speed: opts.speed,
      drainSeconds,
      ratio: Math.round((k / one) * 1000) / 1000,
      limit: Math.round((1.3 / opts.parallel) * 1000) / 1000,
      leftManaged,
      sagaSeconds,
      slotsBusy,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const rows: [string, string][] = [
        ['node drained', `${result.node} (${CONTAINERS} managed containers, fleet-large seed ${opts.seed})`],
        ['clock', `x${opts.speed} simulated seconds per second`],
        ['evacuation with K = 1', `${one} s`],
        [`evacuation with K = ${opts.parallel}`, `${k} s`],
        [
          `time K=${opts.parallel} / time K=1`,
          `${result.ratio} (limit 1.3 / ${opts.parallel} = ${result.limit})`,
        ],
        ['mean migrate saga', runs.map((kk) => `K=${kk}: ${sagaSeconds[String(kk)]} s`).join(', ')],
        [
          'K slots busy',
          runs.map((kk) => `K=${kk}: ${Math.round((slotsBusy[String(kk)] ?? 0) * 100)} %`).join(', '),
        ],
        [
          'managed left on the node',
          Object.entries(leftManaged)
            .map(([kk, n]) => `K=${kk}: ${n}`)
            .join(', '),
        ],
      ];
      for (const [label, value] of rows) process.stdout.write(`${label.padEnd(30)}${value}\n`);
    }
    return result;
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Starts the drain and waits for it to report the node drained (or blocked). */
async function drain(
  client: Awaited<ReturnType<typeof startDevServer>>['env']['client'],
  taskQueue: string,
  node: string,
  parallel: number,
  say: (line: string) => void,
): Promise<NodeDrainState> {
  const settings = { ...coreSettingsOf(configSchema.parse({ scope })), drainedNodes: [] };
  const cluster = `bench${parallel}`;
  const input: NodeDrainInput = { cluster, node, parallel, settings };
  const handle = await client.workflow.start('nodeDrainWorkflow', {
    taskQueue,
    workflowId: nodeDrainWorkflowId(cluster, node),
    args: [input],
  });
  let last = -1;
  for (;;) {
    const state = await handle.query(nodeDrainStatusQuery).catch(() => null);
    if (state?.phase === 'drained') {
      await handle.terminate('bench over');
      return state;
    }
    if (state?.phase === 'blocked' && state.inFlight.length === 0) {
      await handle.terminate('bench over');
      throw new Error(
        `the drain is blocked: ${state.blocked.map((b) => `CT ${b.vmid}: ${b.why}`).join('; ')}`,
      );
    }
    if (state && state.moved.length !== last && state.moved.length % 10 === 0) {
      last = state.moved.length;
      say(`  K = ${parallel}: ${state.moved.length} moved, ${state.inFlight.length} in flight`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Wall seconds, start to close, of every migrate saga the drain ran on this task queue. */
async function sagaTimes(
  client: Awaited<ReturnType<typeof startDevServer>>['env']['client'],
  taskQueue: string,
): Promise<number[]> {
  const times: number[] = [];
  const query = `TaskQueue = '${taskQueue}' AND PveOperation = 'migrate' AND ExecutionStatus != 'Running'`;
  for await (const w of client.workflow.list({ query })) {
    if (w.closeTime) times.push((w.closeTime.getTime() - w.startTime.getTime()) / 1000);
  }
  return times;
}

/**
 * The node to drain, holding exactly 40 managed containers: the one asked for, or the one with the
 * fewest at or above 40; extra containers (the smallest disks first) are moved to the nodes with the
 * most free memory by restart migrations, as an operator would by hand.
 */
async function arrange(
  pve: PveClient,
  wanted: string | undefined,
  say: (line: string) => void,
): Promise<string> {
  const snapshot = await pve.clusterSnapshot();
  const counts = snapshot.nodes
    .filter((n) => n.status === 'online')
    .map((n) => ({ name: n.name, managed: managedOn(snapshot, n.name) }));
  const chosen = wanted
    ? counts.find((c) => c.name === wanted)
    : counts
        .filter((c) => c.managed >= CONTAINERS)
        .sort((a, b) => a.managed - b.managed || (a.name < b.name ? -1 : 1))[0];
  if (!chosen)
    throw new Error(
      wanted ? `--drain: no online node ${wanted} in fleet-large` : 'no node with 40 managed containers',
    );
  if (chosen.managed < CONTAINERS) {
    throw new Error(
      `--drain: ${chosen.name} holds ${chosen.managed} managed containers; the bench needs ${CONTAINERS}`,
    );
  }
  const extra = snapshot.containers
    .filter((c) => c.node === chosen.name && isManaged(c, scope))
    .sort((a, b) => a.disk - b.disk || a.vmid - b.vmid)
    .slice(0, chosen.managed - CONTAINERS);
  if (extra.length > 0)
    say(
      `arranging ${chosen.name}: moving ${extra.length} of its ${chosen.managed} managed containers elsewhere`,
    );
  const roomiest = snapshot.nodes
    .filter((n) => n.status === 'online' && n.name !== chosen.name)
    .sort((a, b) => b.maxmem - b.mem - (a.maxmem - a.mem));
  await Promise.all(
    extra.map(async (ct, i) => {
      const target = roomiest[i % roomiest.length]?.name as string;
      const upid = await pve.migrateContainer(chosen.name, ct.vmid, {
        target,
        restart: ct.status === 'running',
      });
      const done = await waitForTask(pve, chosen.name, upid, { pollMs: 100 });
      if (done.exitstatus !== 'OK') throw new Error(`arranging: migrating CT ${ct.vmid}: ${done.exitstatus}`);
    }),
  );
  return chosen.name;
}

function managedOn(snapshot: ClusterSnapshot, node: string): number {
  return snapshot.containers.filter((c) => c.node === node && isManaged(c, scope)).length;
}

function clientOf(sim: RunningSim): PveClient {
  return createPveClient({
    host: sim.host,
    port: sim.port,
    schema: sim.schema,
    tokenId: sim.token.id,
    tokenSecret: sim.token.secret,
    ...(sim.schema === 'https' ? { caFile: sim.caFile } : {}),
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  runDrainBench(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench-drain: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
