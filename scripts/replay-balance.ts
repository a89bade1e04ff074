// Offline replay of the balance rule on a pve-sim scenario's first observation, without Temporal:
// how many moves (and how much memory in use) it takes to bring the CV of node used-memory % to
// 0.279, 0.2, 0.15 and the bench's target, with bench:balance's config. Used to choose the rule's
// move order (see the README's Load balancing section); bench:balance measures the real run.
//
//   npx tsx scripts/replay-balance.ts [--seed N] [--one-at-a-time] [--ahead K] [--cycle-seconds S]
//
// One at a time: the rule's first move, applied, again. Otherwise the manager's round (step) every
// S simulated seconds (10) with its budgets, each move stopping its container 3 s after it starts (counted on its
// target from then on, as bench:balance counts it) and landing after pve-sim's time for it (8 s of
// shutdown, setup and start plus its disk at 100 MiB/s). Memory does not drift, and a restarted
// container keeps its memory in use: the live run differs by that.
import { parseArgs } from 'node:util';
import { startSimulator } from '../simulator/index';
import { coreSettingsOf, ruleConfigsOf } from '../src/config';
import type { ClusterSnapshot } from '../src/domain';
import {
  balanceRule,
  coefficientOfVariation,
  emptyBalanceState,
  emptyCore,
  nodeLoadsOf,
  planBalance,
  projectCluster,
  roundActionable,
  step,
  type BalanceConfig,
  type BalanceState,
  type SagaOutcome,
} from '../src/policy';
import { createPveClient } from '../src/proxmox';
import { benchBalanceConfig } from './bench-balance-config';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const MAX_CYCLES = 2000;

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'fleet-large' },
    seed: { type: 'string', default: '1' },
    'one-at-a-time': { type: 'boolean', default: false },
    ahead: { type: 'string', default: '4' },
    'cycle-seconds': { type: 'string', default: '10' },
  },
  strict: true,
});
const seed = Number(values.seed);
const ahead = Number(values.ahead);
if (!Number.isInteger(seed) || seed < 0) usage(`--seed: expected a whole number, got "${values.seed}"`);
if (!Number.isInteger(ahead) || ahead < 1 || ahead > 64)
  usage(`--ahead: expected a whole number from 1 to 64, got "${values.ahead}"`);
// On a loaded machine the stack's cycles run late: 20 to 40 simulated seconds apart at speed 10.
const CYCLE_MS = Number(values['cycle-seconds']) * 1000;
if (!(CYCLE_MS >= 1000 && CYCLE_MS <= 600_000))
  usage(`--cycle-seconds: expected a number from 1 to 600, got "${values['cycle-seconds']}"`);

const config = benchBalanceConfig(1, ahead);
const settings = coreSettingsOf(config);
const balance = ruleConfigsOf(config).balance as BalanceConfig;
const marks = [0.279, 0.2, 0.15, balance.target];

const initial = await firstObservation(values.scenario, seed);
const reached: Record<string, { moves: number; gib: number }> = {};
const note = (cv: number, moves: number, bytes: number) => {
  for (const m of marks)
    if (reached[m] === undefined && cv <= m + 1e-12) reached[m] = { moves, gib: round1(bytes / GiB) };
};
const result = values['one-at-a-time']
  ? oneAtATime(structuredClone(initial))
  : parallel(structuredClone(initial));
process.stdout.write(
  `${JSON.stringify({ scenario: values.scenario, seed, mode: values['one-at-a-time'] ? 'one at a time' : `parallel, ${ahead} ahead`, cvBefore: round3(cvUsed(initial)), ...result, reached })}\n`,
);
process.exit(0);

function oneAtATime(s: ClusterSnapshot) {
  let state: BalanceState = { ...emptyBalanceState(), active: true };
  let moves = 0;
  let bytes = 0;
  for (let now = s.takenAt; moves < MAX_CYCLES; now += CYCLE_MS) {
    note(cvUsed(s), moves, bytes);
    if (cvUsed(s) <= balance.target) break;
    const projected = projectCluster(s, settings, []);
    const view = {
      snapshot: s,
      settings,
      now,
      loads: nodeLoadsOf(projected),
      actionable: roundActionable(s, settings, projected, {}, now),
      inFlight: [],
      random: () => 0,
    };
    const [m] = planBalance(view, { ...balance, maxMovesPerRound: 1 }, state, { budgets: false }).moves;
    if (!m) break;
    move(s, m.vmid, m.to);
    bytes += m.memBytes;
    moves++;
    const record = [Math.floor(now / 1000), m.from, m.to, 1, Math.round(m.memBytes / MiB)] as const;
    state = { ...state, moved: { ...state.moved, [String(m.vmid)]: [...record] } };
  }
  return { moves, gibMoved: round1(bytes / GiB), cvAfter: round3(cvUsed(s)) };
}

function parallel(s: ClusterSnapshot) {
  let core = emptyCore(seed);
  const flying = new Map<string, { vmid: number; to: string; mem: number; stopAt: number; endAt: number }>();
  const outcomes: SagaOutcome[] = [];
  let started = 0;
  let startedBytes = 0;
  let landedBytes = 0;
  let now = s.takenAt;
  for (let cycle = 1; cycle < MAX_CYCLES; cycle++, now += CYCLE_MS) {
    for (const [id, f] of flying) {
      if (f.endAt > now) continue;
      move(s, f.vmid, f.to);
      flying.delete(id);
      landedBytes += f.mem;
      outcomes.push({ decisionId: id, status: 'succeeded', started: true, at: f.endAt });
    }
    // The observation: a container stopped for its move shows on neither node; counted on its target.
    const seen: ClusterSnapshot = structuredClone({ ...s, takenAt: now });
    const landing = new Map<string, number>();
    for (const f of flying.values()) {
      if (f.stopAt > now) continue;
      const ct = seen.containers.find((c) => c.vmid === f.vmid);
      const from = seen.nodes.find((n) => n.name === ct?.node);
      if (!ct || !from) continue;
      from.mem -= ct.mem;
      ct.mem = 0;
      ct.status = 'stopped';
      landing.set(f.to, (landing.get(f.to) ?? 0) + f.mem);
    }
    const r = step({
      core,
      settings,
      automation: 'auto',
      rules: [{ rule: balanceRule, config: balance }],
      snapshot: seen,
      cycle,
      evaluate: true,
      now,
      outcomes: outcomes.splice(0),
    });
    core = r.core;
    // As bench:balance counts: the moves started by now, this round's included.
    for (const c of r.commands) {
      if (c.action.kind !== 'migrate') continue;
      const ct = s.containers.find((x) => x.vmid === c.action.vmid);
      if (!ct) continue;
      const seconds = 8 + ct.disk / (100 * MiB);
      flying.set(c.decisionId, {
        vmid: ct.vmid,
        to: c.action.to,
        mem: ct.mem,
        stopAt: now + 3000,
        endAt: now + seconds * 1000,
      });
      started++;
      startedBytes += ct.mem;
    }
    const cv = cvUsed(seen, landing);
    note(cv, started, startedBytes);
    if (cv <= balance.target && flying.size === 0) break;
  }
  return {
    moves: started,
    gibMoved: round1(landedBytes / GiB),
    cvAfter: round3(cvUsed(s)),
    simSeconds: (now - initial.takenAt) / 1000,
  };
}

function usage(message: string): never {
  process.stderr.write(
    `replay-balance: ${message}\nUsage: npx tsx scripts/replay-balance.ts [--scenario S] [--seed N] [--one-at-a-time] [--ahead K] [--cycle-seconds S]\n`,
  );
  process.exit(2);
}

function move(s: ClusterSnapshot, vmid: number, to: string): void {
  const ct = s.containers.find((c) => c.vmid === vmid);
  const from = s.nodes.find((n) => n.name === ct?.node);
  const target = s.nodes.find((n) => n.name === to);
  if (!ct || !from || !target) return;
  from.mem -= ct.mem;
  target.mem += ct.mem;
  ct.node = to;
}

function cvUsed(s: ClusterSnapshot, landing: ReadonlyMap<string, number> = new Map()): number {
  const nodes = s.nodes.filter((n) => n.status === 'online' && n.maxmem > 0);
  return coefficientOfVariation(nodes.map((n) => (n.mem + (landing.get(n.name) ?? 0)) / n.maxmem));
}

async function firstObservation(scenario: string, seed: number): Promise<ClusterSnapshot> {
  const sim = await startSimulator({
    scenario,
    seed,
    port: 0,
    clock: { mode: 'manual' },
    dataDir: '.data/replay-balance',
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
  try {
    return await pve.clusterSnapshot();
  } finally {
    await pve.close();
    await sim.stop();
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
