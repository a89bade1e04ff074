// Benchmark of the manager's round: step() p50/p99 at 20 CTs/2 nodes up to 50,000/1,000 with the lab
// rule firing, the compact observation's size at each, and how p50 grows per 5× step.
// `npm run bench:decide` prints a table; `npm run bench:decide -- --json` prints one JSON document.
// Clusters are synthetic ClusterSnapshots from a seeded PRNG (no simulator), so runs compare.
import { encodeObservation, type ClusterSnapshot, type ContainerState, type NodeState } from '../src/domain';
import {
  createRandom,
  emptyCore,
  labConfigSchema,
  ruleRegistry,
  step,
  type CoreSettings,
  type RandomSource,
  type RoundInput,
} from '../src/policy';

const SIZES = [
  { containers: 20, nodes: 2 },
  { containers: 2_000, nodes: 50 },
  { containers: 10_000, nodes: 200 },
  { containers: 50_000, nodes: 1_000 },
];
/** Samples per size stop at whichever comes first, after at least MIN_SAMPLES. */
const MAX_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const MIN_SAMPLES = 10;
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 8_000);
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const VMID_BASE = 100_000;
const NOW = Date.UTC(2026, 0, 1, 9);

/**
 * Two clusters per size, since no round can propose both: in `skewed` half the nodes hold three
 * times the managed memory of the other half (migrations), in `full` every node is over the drop
 * threshold (drops). Timed rounds alternate between them.
 */
type Shape = 'skewed' | 'full';

function buildSnapshot(containers: number, nodes: number, shape: Shape, rng: RandomSource): ClusterSnapshot {
  const perNode = containers / nodes;
  // About 19.5 % of a node's memory in managed containers on average (1.17 GiB each, 6 GiB per CT).
  const maxmem = Math.ceil(perNode * 6) * GiB;
  const nodeStates: NodeState[] = [];
  for (let i = 0; i < nodes; i++) {
    nodeStates.push({
      name: `pve${String(i + 1).padStart(4, '0')}`,
      status: 'online',
      cpu: 0,
      maxcpu: 64,
      mem: 2 * GiB,
      maxmem,
      disk: 0,
      maxdisk: 1024 * GiB,
    });
  }
  const cts: ContainerState[] = [];
  for (let i = 0; i < containers; i++) {
    // skewed: the first half of the nodes get three quarters of the containers, round robin.
    const half = Math.max(1, Math.floor(nodes / 2));
    const n =
      shape === 'full' ? i % nodes : i % 4 !== 3 ? (i >> 2) % half : half + ((i >> 2) % (nodes - half));
    const node = nodeStates[Math.min(nodes - 1, n)] as NodeState;
    const maxmemCt = [512, 1024, 2048][Math.floor(rng.next() * 3)]! * MiB;
    const mem = Math.floor(maxmemCt * (0.2 + 0.6 * rng.next()));
    const maxcpu = 1 + Math.floor(rng.next() * 4);
    const cpu = rng.next() * 0.5;
    node.mem += mem;
    node.cpu += (cpu * maxcpu) / node.maxcpu;
    cts.push({
      vmid: VMID_BASE + i,
      name: `ct-${VMID_BASE + i}`,
      node: node.name,
      status: 'running',
      cpu,
      maxcpu,
      mem,
      maxmem: maxmemCt,
      disk: 2 * GiB,
      maxdisk: 8 * GiB,
      uptime: 3_600 + Math.floor(rng.next() * 1_000_000),
      tags: ['autopilot'],
      pool: 'autopilot',
      template: false,
    });
  }
  return { takenAt: NOW, nodes: nodeStates, containers: cts };
}

function roundInput(snapshot: ClusterSnapshot, containers: number, shape: Shape): RoundInput {
  const settings: CoreSettings = {
    scope: { vmidMin: VMID_BASE, vmidMax: VMID_BASE + containers },
    capacityBasis: 'allocated',
    admissionShare: 0.9,
    cpuShare: 0.9,
    maxConcurrent: 8,
    maxPerNode: 2,
    maxPerKind: {},
    cooldownMs: 60_000,
    drainedNodes: [],
  };
  // skewed: heavy nodes (~29 %) pass 15 % and light ones (~10 %) are under it; full: all pass 12 %.
  const lab = labConfigSchema.parse(
    shape === 'skewed'
      ? { migratePercent: 15, dropPercent: 60, migrateChoice: 'best-fit' }
      : { migratePercent: 10, dropPercent: 12 },
  );
  return {
    core: emptyCore(7),
    settings,
    automation: 'auto',
    rules: [{ rule: ruleRegistry.lab, config: lab }],
    snapshot,
    cycle: 1,
    evaluate: true,
    now: NOW,
    outcomes: [],
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface SizeResult {
  containers: number;
  nodes: number;
  p50Ms: number;
  p99Ms: number;
  observationBytes: number;
  /** Not in the JSON document: what the rounds proposed, to show the rules fired. */
  commands: { skewed: number; full: number };
  proposals: { skewed: number; full: number };
}

function measure(containers: number, nodes: number): SizeResult {
  const rng = createRandom(containers * 31 + nodes);
  const inputs = {
    skewed: roundInput(buildSnapshot(containers, nodes, 'skewed', rng), containers, 'skewed'),
    full: roundInput(buildSnapshot(containers, nodes, 'full', rng), containers, 'full'),
  };
  const commands = { skewed: 0, full: 0 };
  const proposals = { skewed: 0, full: 0 };
  for (const shape of ['skewed', 'full'] as const) {
    const result = step(inputs[shape]);
    commands[shape] = result.commands.length;
    proposals[shape] = result.commands.length + deferredOf(result.notes);
  }
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < MAX_SAMPLES; i++) {
    if (i >= MIN_SAMPLES && performance.now() - started > BUDGET_MS) break;
    const input = i % 2 === 0 ? inputs.skewed : inputs.full;
    const t0 = performance.now();
    step(input);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return {
    containers,
    nodes,
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
    observationBytes: Buffer.byteLength(JSON.stringify(encodeObservation(inputs.skewed.snapshot))),
    commands,
    proposals,
  };
}

/** Proposals the budgets deferred, read back from the round's notes. */
function deferredOf(notes: readonly string[]): number {
  let n = 0;
  for (const note of notes) {
    const m = /^(\d+) more action\(s\) deferred/.exec(note);
    if (m) n += Number(m[1]);
  }
  return n;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const json = process.argv.includes('--json');
const results = SIZES.map((s) => measure(s.containers, s.nodes));
if (json) {
  const sizes = results.map(({ containers, nodes, p50Ms, p99Ms, observationBytes }) => ({
    containers,
    nodes,
    p50Ms,
    p99Ms,
    observationBytes,
  }));
  console.log(JSON.stringify({ sizes }));
} else {
  console.log(
    'containers  nodes   p50 ms    p99 ms   observation    p50 growth   commands+deferred (migrate / drop)',
  );
  results.forEach((r, i) => {
    const prev = results[i - 1];
    const growth = prev && i > 1 ? `×${(r.p50Ms / prev.p50Ms).toFixed(1)}` : '';
    console.log(
      `${String(r.containers).padStart(10)} ${String(r.nodes).padStart(6)} ${r.p50Ms.toFixed(3).padStart(9)} ` +
        `${r.p99Ms.toFixed(3).padStart(9)} ${`${(r.observationBytes / 1024).toFixed(1)} KB`.padStart(13)} ` +
        `${growth.padStart(12)}   ${r.proposals.skewed} / ${r.proposals.full}`,
    );
  });
  // n log n per 5×: 5 × log(5n)/log(n), the most a 5× step may grow.
  const bound = (n: number): number => (5 * Math.log(5 * n)) / Math.log(n);
  console.log(
    `n log n bound per 5× step: ×${bound(2_000).toFixed(1)} (2,000 → 10,000), ×${bound(10_000).toFixed(1)} (10,000 → 50,000)`,
  );
}
