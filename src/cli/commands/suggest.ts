// `pve-autopilot suggest`: the balance rule's moves as suggestions, from one observation: for each,
// the container, its source and target, its size, the imbalance before and after, and the target's
// projected memory (admission counts the whole limit). With the running manager's state when it can
// be asked (its cooldowns, the rule's recent moves, the operations in flight and drained nodes),
// with the hold rounds left out: it shows what balancing would do now. Starts nothing.
import { coreSettingsOf } from '../../config';
import type { Action, ClusterSnapshot } from '../../domain';
import {
  balanceConfigSchema,
  emptyBalanceState,
  nodeLoadsOf,
  planBalance,
  projectCluster,
  roundActionable,
  type BalanceConfig,
  type BalancePlan,
  type BalanceState,
  type CoreSettings,
  type ManagerCore,
  type RuleView,
} from '../../policy';
import { toClusterSnapshot } from '../../proxmox';
import { managerStatusQuery } from '../../../workflows/messages';
import { observe } from '../cluster';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson, table } from '../output';
import { managerLoop } from './long-running';

const MiB = 1024 * 1024;

export interface Suggestion {
  vmid: number;
  source: string;
  target: string;
  /** Memory in use and the limit, MiB. */
  memoryMiB: number;
  limitMiB: number;
  imbalanceBefore: number;
  imbalanceAfter: number;
  /** The target's memory after the move as admission counts it (used + incoming limits), %. */
  targetProjectedMemPercent: number;
  reason: string;
}

export interface SuggestReport {
  imbalance: number;
  threshold: number;
  target: number;
  suggestions: Suggestion[];
  notes: string[];
}

/** The suggestions for `snapshot`, from the manager's carried state when there is one. */
export function suggestionsOf(
  snapshot: ClusterSnapshot,
  settings: CoreSettings,
  config: BalanceConfig,
  carried: { core?: ManagerCore; inFlight?: Action[] },
  now: number,
): SuggestReport {
  const inFlight = carried.inFlight ?? [];
  const cluster = projectCluster(snapshot, settings, inFlight);
  const view: RuleView = {
    snapshot,
    settings,
    now,
    loads: nodeLoadsOf(cluster),
    actionable: roundActionable(snapshot, settings, cluster, carried.core?.cooldownUntil ?? {}, now),
    inFlight,
    random: () => 0,
  };
  const state = (carried.core?.ruleStates.balance as BalanceState | undefined) ?? emptyBalanceState();
  const plan: BalancePlan = planBalance(view, config, state, { budgets: false });
  return {
    imbalance: plan.imbalance,
    threshold: config.threshold,
    target: config.target,
    suggestions: plan.moves.map((m) => ({
      vmid: m.vmid,
      source: m.from,
      target: m.to,
      memoryMiB: Math.round(m.memBytes / MiB),
      limitMiB: Math.round(m.maxmemBytes / MiB),
      imbalanceBefore: round3(m.imbalanceBefore),
      imbalanceAfter: round3(m.imbalanceAfter),
      targetProjectedMemPercent: Math.round(m.targetProjectedMemPercent * 10) / 10,
      reason: m.reason,
    })),
    notes: plan.notes,
  };
}

export async function suggestCommand(ctx: Context): Promise<number> {
  const { config } = ctx;
  const snapshot = toClusterSnapshot(await observe(ctx), Date.now());
  const running = await runningManager(ctx);
  const settings = running?.settings ?? coreSettingsOf(config);
  // The running manager's balance settings when it has them, else the config's; on or off alike.
  const parsed = balanceConfigSchema.safeParse(running?.rules.balance ?? config.balance);
  const balance = parsed.success ? parsed.data : config.balance;
  const report = suggestionsOf(
    snapshot,
    settings,
    balance,
    running ? { core: running.core, inFlight: running.inFlight } : {},
    Date.now(),
  );
  const source = running
    ? `the running manager (${managerLoop.workflowId(ctx.cluster)})`
    : 'a fresh state (no manager running: no cooldowns or moves in flight known)';
  if (ctx.global.json) {
    printJson(ctx.io, { cluster: ctx.cluster, state: source, ...report });
    return ExitCode.ok;
  }
  const out = ctx.io.stdout;
  line(out, `Balance suggestions for cluster ${ctx.cluster} (nothing is started)`);
  line(
    out,
    `  imbalance ${report.imbalance.toFixed(3)} (CV of node load; the rule acts above ${report.threshold} and stops at ${report.target})`,
  );
  line(out, `  state: ${source}`);
  line(out);
  if (report.suggestions.length === 0) line(out, 'Suggestions: none');
  else {
    line(out, `Suggestions (${report.suggestions.length}, in order):`);
    line(
      out,
      table(
        ['VMID', 'FROM', 'TO', 'MEM MiB', 'LIMIT MiB', 'IMBALANCE', 'TARGET MEM %'],
        report.suggestions.map((s) => [
          String(s.vmid),
          s.source,
          s.target,
          String(s.memoryMiB),
          String(s.limitMiB),
          `${s.imbalanceBefore.toFixed(3)} → ${s.imbalanceAfter.toFixed(3)}`,
          s.targetProjectedMemPercent.toFixed(1),
        ]),
      ),
    );
  }
  for (const note of report.notes) line(out, `  note: ${note}`);
  return ExitCode.ok;
}

interface RunningManager {
  settings: CoreSettings;
  rules: Record<string, unknown>;
  core: ManagerCore;
  inFlight: Action[];
}

/** The running manager's state, or undefined when Temporal or the manager cannot be asked. */
async function runningManager(ctx: Context): Promise<RunningManager | undefined> {
  try {
    const client = await ctx.temporal();
    const state = await client.workflow
      .getHandle(managerLoop.workflowId(ctx.cluster))
      .query(managerStatusQuery);
    if (!state?.core) return undefined;
    const inFlight = state.core.decisions.filter((d) => d.status === 'running').map((d) => d.action);
    return { settings: state.settings, rules: state.rules, core: state.core, inFlight };
  } catch {
    // Temporal down, or no manager: suggest from a fresh state.
    return undefined;
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
