// `pve-autopilot plan`: the dry run. One observation, one round of every enabled rule with the
// current config and, where the manager runs, its carried state (cooldowns, operations in flight,
// rule states), printed as the actions it would take with their reasons and what was deferred.
// Starts nothing and changes nothing.
import { coreSettingsOf, ruleConfigsOf } from '../../config';
import { describeZones, zonesOfCluster, type Action, type AutomationLevel } from '../../domain';
import { toClusterSnapshot } from '../../proxmox';
import {
  emptyCore,
  formatAction,
  ruleNames,
  ruleRegistry,
  step,
  type EnabledRule,
  type ManagerCore,
} from '../../policy';
import { managerStatusQuery } from '../../../workflows/messages';
import { observe } from '../cluster';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { line, printJson, table } from '../output';
import { managerLoop } from './long-running';
import { runningDrains } from './node';

export interface PlannedAction {
  rule: string;
  /** auto: the manager would start it; recommend: it would wait for approval. */
  level: 'auto' | 'recommend';
  action: Action;
  summary: string;
  reason: string;
}

export async function planCommand(ctx: Context): Promise<number> {
  const { config } = ctx;
  const snapshot = toClusterSnapshot(await observe(ctx), Date.now());
  const { core, source, running } = await managerCore(ctx);
  // Drained nodes take nothing in the plan either; without Temporal there is no drain to know of.
  const drainedNodes = source.startsWith('Temporal unreachable')
    ? []
    : await ctx
        .temporal()
        .then((client) => runningDrains(client, ctx.cluster))
        .catch((): string[] => []);
  const settings = { ...coreSettingsOf(config), drainedNodes };
  const configs = ruleConfigsOf(config);
  const rules: EnabledRule[] = ruleNames
    .filter((name) => configs[name].enabled)
    .map((name) => ({ rule: ruleRegistry[name], config: configs[name] }));
  // The running manager's level (else the config's), except that "off" still shows proposals.
  const level = running ?? config.manager.automation;
  const automation = level === 'off' ? 'recommend' : level;
  const cycle = 0;
  const result = step({
    core,
    settings,
    automation,
    rules,
    snapshot,
    cycle,
    evaluate: true,
    now: Date.now(),
    outcomes: [],
  });
  const started = new Set(result.commands.map((c) => c.decisionId));
  const planned: PlannedAction[] = result.core.decisions
    .filter((d) => started.has(d.id) || d.status === 'recommended')
    .map((d) => ({
      rule: d.rule ?? 'manager',
      level: started.has(d.id) ? 'auto' : 'recommend',
      action: d.action,
      summary: formatAction(d.action),
      reason: d.action.reason,
    }));
  const inFlight = core.decisions.filter((d) => d.status === 'running').map((d) => formatAction(d.action));

  if (ctx.global.json) {
    printJson(ctx.io, {
      cluster: ctx.cluster,
      state: source,
      rules: rules.map((r) => ({
        name: r.rule.name,
        automation: r.config.automation,
        priority: r.config.priority,
      })),
      zones: zonesOfCluster(
        config.zones,
        snapshot.nodes.map((n) => n.name),
      ),
      actions: planned,
      inFlight,
      notes: result.notes,
    });
    return ExitCode.ok;
  }
  const out = ctx.io.stdout;
  line(out, `Plan for cluster ${ctx.cluster} (nothing is started)`);
  line(
    out,
    `  rules: ${rules.map((r) => `${r.rule.name} (${r.config.automation}, priority ${r.config.priority})`).join(', ') || 'none enabled'}`,
  );
  line(out, `  state: ${source}`);
  line(
    out,
    `  zones: ${describeZones(
      config.zones,
      snapshot.nodes.map((n) => n.name),
    )}`,
  );
  if (inFlight.length > 0) line(out, `  in flight: ${inFlight.join('; ')}`);
  line(out);
  if (planned.length === 0) line(out, 'Actions: none');
  else {
    line(out, `Actions (${planned.length}):`);
    line(
      out,
      table(
        ['RULE', 'LEVEL', 'ACTION', 'REASON'],
        planned.map((p) => [p.rule, p.level, p.summary, p.reason]),
      ),
    );
  }
  for (const note of result.notes) line(out, `  note: ${note}`);
  return ExitCode.ok;
}

/** The running manager's carried state, or an empty one (with why) when it cannot be asked. */
async function managerCore(
  ctx: Context,
): Promise<{ core: ManagerCore; source: string; running?: AutomationLevel }> {
  let client;
  try {
    client = await ctx.temporal();
  } catch (err) {
    if (err instanceof CliError && err.code === ExitCode.unreachable) {
      return {
        core: emptyCore(1),
        source: 'Temporal unreachable: no cooldowns or operations in flight known',
      };
    }
    throw err;
  }
  const workflowId = managerLoop.workflowId(ctx.cluster);
  try {
    const state = await client.workflow.getHandle(workflowId).query(managerStatusQuery);
    if (state?.core) {
      const source = `from the running manager (${workflowId}, cycle ${state.cycle}, automation ${state.automation})`;
      return { core: state.core, source, running: state.automation };
    }
  } catch {
    // Not running, or it has no answer: plan from a fresh state.
  }
  return {
    core: emptyCore(1),
    source: 'no manager running: a fresh state (no cooldowns, nothing in flight)',
  };
}
