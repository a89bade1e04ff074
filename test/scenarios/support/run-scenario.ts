// Replays one golden scenario: pve-sim in-process on a manual clock, and the manager's pure round
// (step) on top. Each cycle observes /cluster/resources through the project's PveClient (and through
// the compact observation, as the workflow receives it), calls step, executes each command on the
// sim with plain PVE calls while the clock moves second by second, and feeds the outcomes to the
// next step. Everything that happens is one line of the decision log.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coreSettingsOf, ruleConfigsOf } from '../../../src/config';
import {
  decodeObservation,
  encodeObservation,
  isManaged,
  type Action,
  type ClusterSnapshot,
  type Observation,
} from '../../../src/domain';
import {
  approvalProblem,
  approve,
  createRandom,
  createRuleContext,
  emptyCore,
  footprintBytes,
  formatAction,
  formatPercent,
  labRules,
  ruleNames,
  ruleRegistry,
  step,
  type AnyRule,
  type CoreSettings,
  type Decision,
  type EnabledRule,
  type LabConfig,
  type ManagerCore,
  type ManagerPolicy,
  type SagaOutcome,
} from '../../../src/policy';
import { toClusterSnapshot, type PveClient } from '../../../src/proxmox';
import { startTestSim, type TestSim } from '../../support/sim';
import type { Scenario, ScenarioEvent } from './scenario-files';

const GiB = 1024 ** 3;
/** The seed of the manager's PRNG in every scenario (the random migrate choice draws from it). */
const MANAGER_SEED = 42;
const DEBIAN_12 = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

export interface ScenarioRun {
  log: string;
  /** Cycles in which the lab rule proposed the same actions, reasons included, as the legacy decide path. */
  legacySame: number;
  legacyCycles: number;
}

interface Task {
  node: string;
  upid: string;
}

/** A command (or an event such as adding a CT) being carried out on the sim, one PVE call at a time. */
interface Job {
  label: string;
  steps: Array<() => Promise<Task | null>>;
  task: Task | null;
  decisionId?: string;
}

export async function runScenario(scenario: Scenario): Promise<ScenarioRun> {
  const sim = await startTestSim({
    scenario: scenario.spec,
    clock: { mode: 'manual' },
    http: true,
    // Shared by every scenario, so the certificate is made once.
    dataDir: join(tmpdir(), 'pve-autopilot-golden-sim'),
  });
  try {
    return await new Replay(scenario, sim).run();
  } finally {
    await sim.stop();
  }
}

class Replay {
  private readonly lines: string[] = [];
  private settings: CoreSettings;
  private readonly rules: EnabledRule[];
  private readonly cycleSeconds: number;
  private readonly pve: PveClient;
  private core: ManagerCore = emptyCore(MANAGER_SEED);
  private jobs: Job[] = [];
  private outcomes: SagaOutcome[] = [];
  private now = 0;
  private elapsed = 0;
  private lastSnapshot: ClusterSnapshot | null = null;
  /** What the lab rule proposed inside the last step, recorded by a wrapper around it. */
  private labProposals: Action[] = [];
  private legacySame = 0;
  private legacyCycles = 0;
  private readonly legacyDiffers: number[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly sim: TestSim,
  ) {
    this.settings = coreSettingsOf(scenario.config);
    this.cycleSeconds = scenario.config.manager.cycleSeconds;
    this.pve = sim.pve;
    const configs = ruleConfigsOf(scenario.config);
    this.rules = ruleNames.flatMap((name) => {
      const config = configs[name];
      if (!config.enabled) return [];
      return [{ rule: name === 'lab' ? this.recordingLab() : ruleRegistry[name], config }];
    });
  }

  async run(): Promise<ScenarioRun> {
    this.now = (await this.sim.admin<{ now: number }>('GET', '/_sim/clock')).now;
    this.line(`# ${this.scenario.name}: ${this.scenario.description}`);
    for (let cycle = 1; cycle <= this.scenario.cycles; cycle++) {
      this.line('');
      this.line(`cycle ${cycle} at ${clock(this.now)}`);
      for (const e of this.scenario.events.filter((e) => e.cycle === cycle)) await this.apply(e);
      await this.round(cycle);
      await this.pollJobs();
      for (let s = 0; s < this.cycleSeconds; s++) {
        await this.sim.sim.advance(1);
        this.now += 1000;
        this.elapsed++;
        for (const e of this.scenario.events.filter((e) => e.second === this.elapsed)) await this.apply(e);
        await this.pollJobs();
      }
    }
    this.line('');
    const differs =
      this.legacyDiffers.length > 0 ? ` (differs in cycle ${this.legacyDiffers.join(', ')})` : '';
    this.line(
      `legacy decide(): the lab rule proposed the same actions in ${this.legacySame} of ${this.legacyCycles} cycles${differs}`,
    );
    return {
      log: `${this.lines.join('\n')}\n`,
      legacySame: this.legacySame,
      legacyCycles: this.legacyCycles,
    };
  }

  private async round(cycle: number): Promise<void> {
    const snapshot = await this.observe();
    this.lastSnapshot = snapshot;
    for (const n of snapshot.nodes) this.line(`  node     ${this.nodeLine(snapshot, n.name)}`);
    const outcomes = this.outcomes.splice(0);
    const finished = new Set(outcomes.map((o) => o.decisionId));
    const inFlight = this.core.decisions.filter((d) => d.status === 'running' && !finished.has(d.id));
    for (const d of inFlight)
      this.line(`  inflight ${d.id} [${d.rule ?? 'manager'}] ${formatAction(d.action)}`);
    const before = new Map(this.core.decisions.map((d) => [d.id, d]));
    const seedBefore = this.core.seed;
    this.labProposals = [];
    const result = step({
      core: this.core,
      settings: this.settings,
      automation: this.scenario.config.manager.automation,
      rules: this.rules,
      snapshot,
      cycle,
      evaluate: true,
      now: this.now,
      outcomes,
    });
    this.core = result.core;
    const commanded = new Set(result.commands.map((c) => c.decisionId));
    for (const c of result.commands) {
      this.line(`  command  ${c.decisionId} [${c.rule}] ${formatAction(c.action)}: ${c.action.reason}`);
    }
    for (const d of result.core.decisions) this.logChange(before.get(d.id), d, commanded);
    for (const note of result.notes) this.line(`  note     ${note}`);
    // Approved decisions start before the rules are asked: the legacy path sees them in flight too.
    const approvedStarts = result.commands.filter((c) => before.has(c.decisionId)).map((c) => c.action);
    this.legacyCheck(cycle, snapshot, [...inFlight.map((d) => d.action), ...approvedStarts], seedBefore);
    for (const c of result.commands) this.jobs.push(this.commandJob(c.decisionId, c.action, snapshot));
  }

  /** One GET /cluster/resources, through the compact form the observe activity returns. */
  private async observe(): Promise<ClusterSnapshot> {
    const snapshot = toClusterSnapshot(await this.pve.clusterResources(), this.now);
    return decodeObservation(JSON.parse(JSON.stringify(encodeObservation(snapshot))) as Observation);
  }

  private nodeLine(snapshot: ClusterSnapshot, name: string): string {
    const n = snapshot.nodes.find((x) => x.name === name);
    if (!n) return name;
    if (n.status !== 'online') return `${name} ${n.status}`;
    let managed = 0;
    let count = 0;
    for (const ct of snapshot.containers) {
      if (ct.node !== name || !isManaged(ct, this.settings.scope)) continue;
      managed += footprintBytes(ct, this.settings.capacityBasis);
      count++;
    }
    return (
      `${name} managed ${formatPercent((managed * 100) / n.maxmem)} (${count} CTs)  ` +
      `mem ${(n.mem / GiB).toFixed(1)}/${(n.maxmem / GiB).toFixed(1)} GiB  cpu ${formatPercent(n.cpu * 100)}`
    );
  }

  private logChange(old: Decision | undefined, d: Decision, commanded: ReadonlySet<string>): void {
    if (commanded.has(d.id)) return;
    if (old === undefined) {
      if (d.status === 'recommended') {
        this.line(
          `  recommend ${d.id} [${d.rule ?? 'manager'}] ${formatAction(d.action)}: ${d.action.reason}`,
        );
      }
      return;
    }
    if (old.status !== d.status && d.status === 'expired') {
      this.line(`  expired  ${d.id} ${formatAction(d.action)}: ${d.detail ?? ''}`);
    }
  }

  /**
   * The lab rule is the same code as before the decision core: asks the old path (the legacy
   * manager's createRuleContext and labRules, given the same in-flight set, cooldowns and seed)
   * and counts the cycles in which both propose the same actions with the same reasons.
   */
  private legacyCheck(cycle: number, snapshot: ClusterSnapshot, inFlight: Action[], seed: number): void {
    const lab = this.rules.find((r) => r.rule.name === 'lab');
    if (!lab) return;
    const config = lab.config as LabConfig;
    const policy: ManagerPolicy = {
      scope: this.settings.scope,
      capacityBasis: this.settings.capacityBasis,
      migratePercent: config.migratePercent,
      dropPercent: config.dropPercent,
      migrateChoice: config.migrateChoice,
      dropMode: config.dropMode,
      maxConcurrent: this.settings.maxConcurrent,
      cooldownMs: this.settings.cooldownMs,
      admissionShare: this.settings.admissionShare,
    };
    const draws = createRandom(seed);
    const memory = { now: this.now, inFlight, cooldownUntil: this.core.cooldownUntil, seed };
    const ctx = createRuleContext(snapshot, policy, memory, {
      random: () => draws.next(),
      note: () => undefined,
    });
    const legacy = labRules.flatMap((rule) => rule(ctx));
    this.legacyCycles++;
    if (JSON.stringify(legacy) === JSON.stringify(this.labProposals)) {
      this.legacySame++;
      return;
    }
    this.legacyDiffers.push(cycle);
    const text = (actions: Action[]): string => actions.map(formatAction).join('; ') || 'nothing';
    this.line(
      `  legacy   decide() would propose ${text(legacy)}; the lab rule proposed ${text(this.labProposals)}`,
    );
  }

  private recordingLab(): AnyRule {
    const lab = ruleRegistry.lab;
    return {
      ...lab,
      evaluate: (view, config, state) => {
        const result = lab.evaluate(view, config as LabConfig, state as null);
        this.labProposals.push(...result.proposals.map((p) => p.action));
        return result;
      },
    };
  }

  private async apply(e: ScenarioEvent): Promise<void> {
    const at = clock(this.now);
    if (e.usage) {
      const { vmid, ...body } = e.usage;
      await this.sim.admin('PUT', `/_sim/containers/${vmid}/usage`, body);
      const parts = [
        body.memMiB === undefined ? '' : `mem ${body.memMiB} MiB`,
        body.cpu === undefined ? '' : `cpu ${body.cpu}`,
      ].filter(Boolean);
      this.line(`  ${at} event usage of CT ${vmid}: ${parts.join(', ')}`);
    } else if (e.fault) {
      await this.sim.admin('POST', '/_sim/faults', e.fault);
      this.line(`  ${at} event fault ${JSON.stringify(e.fault)}`);
    } else if (e.clearFaults) {
      await this.sim.admin('DELETE', '/_sim/faults');
      this.line(`  ${at} event faults cleared`);
    } else if (e.offline !== undefined || e.online !== undefined) {
      const node = (e.offline ?? e.online) as string;
      const state = e.offline !== undefined ? 'offline' : 'online';
      await this.sim.admin('POST', `/_sim/nodes/${node}/${state}`);
      this.line(`  ${at} event node ${node} ${state}`);
    } else if (e.drain !== undefined) {
      this.settings = { ...this.settings, drainedNodes: [...this.settings.drainedNodes, e.drain] };
      this.line(`  ${at} event node ${e.drain} drained`);
    } else if (e.lock) {
      await this.sim.admin('POST', `/_sim/containers/${e.lock.vmid}/lock`, { lock: e.lock.lock });
      this.line(`  ${at} event CT ${e.lock.vmid} locked (${e.lock.lock})`);
    } else if (e.unlock !== undefined) {
      await this.sim.admin('DELETE', `/_sim/containers/${e.unlock}/lock`);
      this.line(`  ${at} event CT ${e.unlock} unlocked`);
    } else if (e.add) {
      const { vmid, node, memoryMiB, cores } = e.add;
      this.line(`  ${at} event add CT ${vmid} on ${node} (${memoryMiB} MiB, ${cores} cores)`);
      this.jobs.push({
        label: `CT ${vmid} created and started on ${node}`,
        task: null,
        steps: [
          async () => ({
            node,
            upid: await this.pve.createContainer(node, {
              vmid,
              ostemplate: DEBIAN_12,
              hostname: `ct-${vmid}`,
              memory: memoryMiB,
              swap: 0,
              cores,
              rootfs: 'local-lvm:8',
              pool: 'autopilot',
              tags: ['autopilot'],
              unprivileged: true,
            }),
          }),
          async () => ({ node, upid: await this.pve.startContainer(node, vmid) }),
        ],
      });
    } else if (e.remove !== undefined) {
      const vmid = e.remove;
      const ct = this.lastSnapshot?.containers.find((c) => c.vmid === vmid);
      if (!ct) throw new Error(`events.yaml: remove: CT ${vmid} was not in the last observation`);
      this.line(`  ${at} event remove CT ${vmid} from ${ct.node}`);
      this.jobs.push({
        label: `CT ${vmid} removed`,
        task: null,
        steps: destroySteps(this.pve, ct.node, vmid, ct.status),
      });
    } else if (e.approve) {
      const problem = approvalProblem(this.core.decisions, e.approve);
      if (problem) {
        this.line(`  ${at} event approve ${e.approve.join(', ')} refused: ${problem}`);
        return;
      }
      const { core, approved } = approve(this.core, e.approve);
      this.core = core;
      this.line(
        `  ${at} event approve ${e.approve.join(', ')}: approved ${approved.join(', ') || 'nothing'}`,
      );
    }
  }

  private commandJob(decisionId: string, action: Action, snapshot: ClusterSnapshot): Job {
    const pve = this.pve;
    if (action.kind === 'provision') throw new Error('the manager does not provision');
    const ct = snapshot.containers.find((c) => c.vmid === action.vmid);
    const running = ct?.status === 'running';
    const label = formatAction(action);
    switch (action.kind) {
      case 'migrate': {
        const bwlimit = this.scenario.migrateBwlimitKiB;
        return {
          label,
          decisionId,
          task: null,
          steps: [
            async () => ({
              node: action.from,
              upid: await pve.migrateContainer(action.from, action.vmid, {
                target: action.to,
                ...(running ? { restart: true } : {}),
                ...(bwlimit === undefined ? {} : { bwlimit }),
              }),
            }),
          ],
        };
      }
      case 'drop':
        return {
          label,
          decisionId,
          task: null,
          steps:
            action.mode === 'destroy'
              ? destroySteps(pve, action.node, action.vmid, running ? 'running' : 'stopped')
              : [
                  async () => ({
                    node: action.node,
                    upid: await pve.stopContainer(action.node, action.vmid),
                  }),
                ],
        };
      case 'scale':
        return {
          label,
          decisionId,
          task: null,
          steps: [
            async () => {
              const { digest } = await pve.containerConfig(action.node, action.vmid);
              await pve.updateConfig(
                action.node,
                action.vmid,
                {
                  ...(action.cores === undefined ? {} : { cores: action.cores }),
                  ...(action.memoryMiB === undefined ? {} : { memory: action.memoryMiB }),
                  ...(action.swapMiB === undefined ? {} : { swap: action.swapMiB }),
                },
                digest,
              );
              return null;
            },
          ],
        };
    }
  }

  /** Moves every job one call further where it can; a finished command becomes an outcome. */
  private async pollJobs(): Promise<void> {
    const still: Job[] = [];
    for (const job of this.jobs) {
      const ended = await this.advanceJob(job);
      if (ended === null) {
        still.push(job);
        continue;
      }
      const at = clock(this.now);
      const status = ended.ok ? 'succeeded' : 'failed';
      if (job.decisionId === undefined) {
        this.line(`  ${at} ${ended.ok ? job.label : `${job.label} failed: ${ended.detail}`}`);
        continue;
      }
      this.line(
        `  ${at} outcome  ${job.decisionId} ${status}: ${job.label}${ended.ok ? '' : `: ${ended.detail}`}`,
      );
      this.outcomes.push({
        decisionId: job.decisionId,
        status,
        started: true,
        at: this.now,
        ...(ended.ok ? {} : { detail: ended.detail }),
      });
    }
    this.jobs = still;
  }

  private async advanceJob(job: Job): Promise<{ ok: boolean; detail?: string } | null> {
    try {
      for (;;) {
        if (job.task) {
          const status = await this.pve.taskStatus(job.task.node, job.task.upid);
          if (status.status !== 'stopped') return null;
          const exit = (status.exitstatus ?? '').trim();
          job.task = null;
          if (exit !== 'OK' && !exit.startsWith('WARNINGS')) return { ok: false, detail: exit };
        }
        const next = job.steps.shift();
        if (!next) return { ok: true };
        job.task = await next();
      }
    } catch (err) {
      return { ok: false, detail: (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '' };
    }
  }

  private line(text: string): void {
    this.lines.push(text);
  }
}

function destroySteps(pve: PveClient, node: string, vmid: number, status: string): Job['steps'] {
  return [
    ...(status === 'running' ? [async () => ({ node, upid: await pve.stopContainer(node, vmid) })] : []),
    async () => ({ node, upid: await pve.destroyContainer(node, vmid, { purge: true }) }),
  ];
}

/** HH:MM:SS of simulated time, UTC. */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
