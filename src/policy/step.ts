// The manager's round as a pure state machine, like Proxmox's HA manager runs one manage() round:
// step(state, observation, now, outcomes) → { state, commands }. It records finished operations,
// starts approved ones when a slot is free, asks every enabled rule for proposals, and admits them
// in priority order against one projected cluster. The workflow only observes, calls step, and
// starts the commands as sagas.

import {
  isManaged,
  type Action,
  type AutomationLevel,
  type ClusterSnapshot,
  type ContainerState,
} from '../domain';
import {
  approvable,
  isFinished,
  sameIntent,
  trimmed,
  withRecommendations,
  type Decision,
} from './decision-log';
import { formatAction } from './format-action';
import {
  admissionProblem,
  applyAction,
  budgetProblem,
  nodeLoadsOf,
  projectCluster,
  type ProjectedCluster,
} from './projected-cluster';
import { createRandom } from './random';
import { effectiveAutomation, type AnyRule, type CoreSettings, type RuleBase, type RuleView } from './rule';

/** What the manager carries from round to round: plain JSON, through continue-as-new too. */
export interface ManagerCore {
  /** The newest decisions (at most MAX_DECISIONS finished ones); running ones are the in-flight set. */
  decisions: Decision[];
  /** vmid (as a JSON key) → epoch ms until which no new operation may touch it. */
  cooldownUntil: Record<string, number>;
  /** Each rule's own state, by rule name; the round never looks inside. */
  ruleStates: Record<string, unknown>;
  /** PRNG state for the draws rules take. */
  seed: number;
}

export type SagaAction = Exclude<Action, { kind: 'provision' }>;

/** A saga the workflow is to start now. */
export interface Command {
  decisionId: string;
  rule: string;
  action: SagaAction;
}

/** How a started (or refused-to-start) decision ended, fed back by the workflow. */
export interface SagaOutcome {
  decisionId: string;
  status: 'succeeded' | 'failed' | 'rejected';
  detail?: string;
  /** false when the saga never started (the id was taken, the start failed): no cooldown then. */
  started: boolean;
  /** Epoch ms. */
  at: number;
}

export interface EnabledRule {
  rule: AnyRule;
  config: RuleBase;
}

export interface RoundInput {
  core: ManagerCore;
  settings: CoreSettings;
  /** The manager's own level; each rule's effective level is the more cautious of the two. */
  automation: AutomationLevel;
  /** Enabled rules, in registry order (the tie-break between equal priorities). */
  rules: readonly EnabledRule[];
  /** The latest observation. */
  snapshot: ClusterSnapshot;
  /** The cycle number; with `evaluate`, the rules are asked and new decisions are numbered by it. */
  cycle: number;
  /** false for a bookkeeping round (outcomes, approvals): no rule is asked. */
  evaluate: boolean;
  now: number;
  outcomes: readonly SagaOutcome[];
}

export interface RoundResult {
  core: ManagerCore;
  commands: Command[];
  notes: string[];
}

export function emptyCore(seed: number): ManagerCore {
  return { decisions: [], cooldownUntil: {}, ruleStates: {}, seed: seed >>> 0 };
}

export function step(input: RoundInput): RoundResult {
  const { settings, now, snapshot } = input;
  const notes: string[] = [];
  let decisions = withOutcomes(input.core.decisions, input.outcomes);
  const cooldownUntil = withCooldowns(
    input.core.cooldownUntil,
    input.core.decisions,
    input.outcomes,
    settings,
    now,
  );
  const running = decisions.filter((d) => d.status === 'running');
  const cluster = projectCluster(
    snapshot,
    settings,
    running.map((d) => d.action),
  );
  const commands: Command[] = [];
  const start = (d: Decision): Decision => {
    applyAction(cluster, d.action);
    commands.push({ decisionId: d.id, rule: d.rule ?? 'manager', action: d.action as SagaAction });
    return { ...d, status: 'running' };
  };

  // Approved decisions first: a human said yes, and they have waited for a slot since.
  decisions = decisions.map((d) => {
    if (d.status !== 'approved' || input.automation === 'off') return d;
    const why = approvedProblem(cluster, d, cooldownUntil, now);
    if (why === null) return start(d);
    if (why.expire) return { ...d, status: 'expired', detail: why.text };
    notes.push(`${d.id} ${formatAction(d.action)} waits: ${why.text}`);
    return d;
  });

  let seed = input.core.seed;
  const ruleStates = { ...input.core.ruleStates };
  if (input.evaluate) {
    const random = createRandom(seed);
    const actionableIds = new Set<number>();
    const actionable = roundActionable(snapshot, settings, cluster, cooldownUntil, now, actionableIds);
    const view: RuleView = {
      snapshot,
      settings,
      now,
      loads: nodeLoadsOf(cluster),
      actionable,
      inFlight: running.map((d) => d.action),
      random: () => random.next(),
    };
    const proposals = ask(input, view, ruleStates, notes);
    const admitted = admit(cluster, proposals, actionableIds, notes);
    seed = random.state();

    const recommended = admitted.filter((p) => p.level === 'recommend');
    decisions = withRecommendations(
      decisions,
      recommended.map((p) => p.action),
      input.cycle,
      now,
    ).map((d) =>
      d.status === 'recommended' && d.cycle === input.cycle && d.rule === undefined
        ? { ...d, rule: recommended.find((p) => sameIntent(p.action, d.action))?.rule ?? 'manager' }
        : d,
    );
    const taken = new Set(decisions.map((d) => d.id));
    let n = 0;
    for (const p of admitted.filter((c) => c.level === 'auto')) {
      let id: string;
      do id = `c${input.cycle}-${++n}`;
      while (taken.has(id));
      decisions.push({ id, cycle: input.cycle, at: now, action: p.action, status: 'running', rule: p.rule });
      commands.push({ decisionId: id, rule: p.rule, action: p.action as SagaAction });
    }
    decisions = trimmed(decisions);
  }
  return { core: { decisions, cooldownUntil, ruleStates, seed }, commands, notes };
}

/** Approves recommended decisions by id (or all with ["all"]); returns the new core and the ids. */
export function approve(
  core: ManagerCore,
  ids: readonly string[],
): { core: ManagerCore; approved: string[] } {
  const approved = approvable(core.decisions, ids);
  const decisions = core.decisions.map((d) =>
    approved.includes(d.id) ? { ...d, status: 'approved' as const } : d,
  );
  return { core: { ...core, decisions }, approved };
}

/** The operations a round counts in flight. */
export function inFlightDecisions(core: ManagerCore): Decision[] {
  return core.decisions.filter((d) => d.status === 'running');
}

interface Candidate {
  action: Action;
  rule: string;
  priority: number;
  level: AutomationLevel;
}

function ask(
  input: RoundInput,
  view: RuleView,
  states: Record<string, unknown>,
  notes: string[],
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const { rule, config } of input.rules) {
    const level = effectiveAutomation(input.automation, config.automation);
    if (level === 'off' || !config.enabled) continue;
    const state: unknown = states[rule.name] ?? rule.initialState();
    const result = rule.evaluate(view, config, state);
    states[rule.name] = result.state;
    notes.push(...result.notes);
    for (const p of result.proposals) {
      candidates.push({ action: p.action, rule: rule.name, priority: p.priority ?? config.priority, level });
    }
  }
  // Stable: equal priorities keep the registry's order, then each rule's own order.
  return candidates.sort((a, b) => b.priority - a.priority);
}

function admit(
  cluster: ProjectedCluster,
  candidates: readonly Candidate[],
  actionable: ReadonlySet<number>,
  notes: string[],
): Candidate[] {
  const admitted: Candidate[] = [];
  const deferred = new Map<string, number>();
  for (const c of candidates) {
    const vmid = c.action.kind === 'provision' ? undefined : c.action.vmid;
    if (c.action.kind === 'provision') {
      notes.push(`ignored a provision from ${c.rule}: the cluster manager does not provision containers`);
      continue;
    }
    // Enforced here as well as in the rules, so no rule can reach outside the scope.
    if (vmid !== undefined && !actionable.has(vmid)) {
      notes.push(
        `ignored a ${c.action.kind} of CT ${vmid} from ${c.rule}: it is not a container this manager may touch now`,
      );
      continue;
    }
    // One operation per container: a higher-priority proposal for it was taken already.
    if (vmid !== undefined && cluster.busy.has(vmid)) continue;
    const refusal = admissionProblem(cluster, c.action);
    if (refusal) {
      notes.push(`not admitted: ${formatAction(c.action)} from ${c.rule}: ${refusal}`);
      continue;
    }
    // A recommendation starts nothing; it still reserves its room so later ones stay consistent.
    if (c.level === 'auto') {
      const wait = budgetProblem(cluster, c.action);
      if (wait) {
        deferred.set(wait, (deferred.get(wait) ?? 0) + 1);
        continue;
      }
    }
    applyAction(cluster, c.action);
    admitted.push(c);
  }
  for (const [why, n] of deferred) notes.push(`${n} more action(s) deferred: ${why}`);
  return admitted;
}

/** Managed, unlocked, idle, out of cooldown, on an online node, and not just started. */
export function roundActionable(
  snapshot: ClusterSnapshot,
  settings: CoreSettings,
  cluster: ProjectedCluster,
  cooldownUntil: Record<string, number>,
  now: number,
  ids: Set<number> = new Set(),
): ContainerState[] {
  // By number, once: a string key per container costs more than the rest of the checks.
  const cooling = new Set<number>();
  for (const [vmid, until] of Object.entries(cooldownUntil)) if (until > now) cooling.add(Number(vmid));
  const out: ContainerState[] = [];
  for (const ct of snapshot.containers) {
    if (!isManaged(ct, settings.scope)) continue;
    if (ct.lock !== undefined && ct.lock !== '') continue;
    if (cluster.busy.has(ct.vmid)) continue;
    if (cooling.has(ct.vmid)) continue;
    // A container just created or started (by a provision, a person, HA) is left alone as long
    // as after an operation of ours: its provision may still be verifying it.
    if (ct.status === 'running' && ct.uptime * 1000 < settings.cooldownMs) continue;
    if (!cluster.nodes.get(ct.node)?.online) continue;
    out.push(ct);
    ids.add(ct.vmid);
  }
  return out.sort((a, b) => a.vmid - b.vmid);
}

function approvedProblem(
  cluster: ProjectedCluster,
  d: Decision,
  cooldownUntil: Record<string, number>,
  now: number,
): { text: string; expire: boolean } | null {
  const { action } = d;
  if (action.kind === 'provision') {
    return { text: 'the cluster manager does not provision containers', expire: true };
  }
  const ct = cluster.containers.get(action.vmid);
  if (!ct || !isManaged(ct, cluster.settings.scope)) {
    return { text: `CT ${action.vmid} is no longer a managed container`, expire: true };
  }
  const from = action.kind === 'migrate' ? action.from : action.kind === 'drop' ? action.node : ct.node;
  if (ct.node !== from) return { text: `CT ${action.vmid} moved to ${ct.node} meanwhile`, expire: true };
  if (cluster.busy.has(action.vmid))
    return { text: `another operation on CT ${action.vmid} is in flight`, expire: false };
  const until = cooldownUntil[String(action.vmid)];
  if (until !== undefined && until > now) return { text: `CT ${action.vmid} is cooling down`, expire: false };
  const refusal = admissionProblem(cluster, action) ?? budgetProblem(cluster, action);
  return refusal ? { text: refusal, expire: false } : null;
}

function withOutcomes(decisions: readonly Decision[], outcomes: readonly SagaOutcome[]): Decision[] {
  if (outcomes.length === 0) return [...decisions];
  const byId = new Map(outcomes.map((o) => [o.decisionId, o]));
  return decisions.map((d) => {
    const o = byId.get(d.id);
    if (!o || isFinished(d)) return d;
    return { ...d, status: o.status, ...(o.detail === undefined ? {} : { detail: o.detail }) };
  });
}

/** A container is left alone for cooldownMs after an operation on it ended; expired entries go. */
function withCooldowns(
  current: Record<string, number>,
  decisions: readonly Decision[],
  outcomes: readonly SagaOutcome[],
  settings: CoreSettings,
  now: number,
): Record<string, number> {
  const next: Record<string, number> = {};
  for (const [vmid, until] of Object.entries(current)) if (until > now) next[vmid] = until;
  for (const o of outcomes) {
    if (!o.started) continue;
    const action = decisions.find((d) => d.id === o.decisionId)?.action;
    if (!action || action.kind === 'provision') continue;
    const until = o.at + settings.cooldownMs;
    if (until > now) next[String(action.vmid)] = until;
  }
  return next;
}
