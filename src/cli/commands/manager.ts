// `pve-autopilot manager ...`: start the cluster manager from the config, pause, resume, stop it,
// approve its recommendations, and read its last observation and decisions.
import { coreSettingsOf, ruleConfigsOf } from '../../config';
import {
  approveUpdate,
  managerStatusQuery,
  pauseManagerUpdate,
  resumeManagerUpdate,
  setAutomationUpdate,
  setThresholdsUpdate,
  stopManagerUpdate,
  type ManagerInput,
  type ManagerState,
} from '../../../workflows/messages';
import type { Command } from '../args';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson, showPercent, table } from '../output';
import { formatAction, ruleNames } from '../../policy';
import {
  askLoop,
  clock,
  describeLoop,
  managerLoop,
  randomSeed,
  runningLoop,
  startLoop,
} from './long-running';
import { runningDrains } from './node';

type ManagerCommand = Extract<Command, { name: 'manager' }>;

/** Decisions shown by `manager status`; the workflow keeps the last 50. */
const SHOWN_DECISIONS = 15;

export async function managerCommand(ctx: Context, command: ManagerCommand): Promise<number> {
  switch (command.action) {
    case 'start': {
      const input = managerInput(ctx, command);
      // The nodes drained now; later drains and undrains reach the manager as signals.
      input.settings.drainedNodes = await runningDrains(await ctx.temporal(), ctx.cluster);
      const summary =
        `cluster manager: automation ${input.automation}, a cycle every ${input.cycleSeconds} s, ` +
        `rules: ${describeRules(ctx.config)}`;
      return startLoop(ctx, managerLoop, input, summary);
    }
    case 'status':
      return managerStatus(ctx);
    case 'approve':
      return approve(ctx, command.all ? ['all'] : command.ids);
    case 'set-thresholds':
    case 'set-automation': {
      const client = await ctx.temporal();
      const handle = await runningLoop(ctx, client, managerLoop);
      const state = await askLoop(ctx, client, managerLoop, () =>
        command.action === 'set-thresholds'
          ? handle.executeUpdate(setThresholdsUpdate, { args: [command.change] })
          : handle.executeUpdate(setAutomationUpdate, {
              args: [
                command.rule === undefined ? command.level : { level: command.level, rule: command.rule },
              ],
            }),
      );
      if (ctx.global.json) printJson(ctx.io, { workflowId: handle.workflowId, state });
      else if (command.action === 'set-thresholds') {
        const lab = state.rules.lab as { migratePercent?: number; dropPercent?: number } | undefined;
        line(
          ctx.io.stdout,
          `Thresholds now: migrate over ${lab?.migratePercent} %, drop over ${lab?.dropPercent} %`,
        );
      } else if (command.rule === undefined) {
        line(ctx.io.stdout, `Automation of the cluster manager now: ${state.automation}`);
      } else {
        line(
          ctx.io.stdout,
          `Automation of rule ${command.rule} now: ${state.rules[command.rule]?.automation}`,
        );
      }
      return ExitCode.ok;
    }
    default: {
      const client = await ctx.temporal();
      const handle = await runningLoop(ctx, client, managerLoop);
      const update = { pause: pauseManagerUpdate, resume: resumeManagerUpdate, stop: stopManagerUpdate }[
        command.action
      ];
      const state = await askLoop(ctx, client, managerLoop, () => handle.executeUpdate(update));
      if (ctx.global.json) printJson(ctx.io, { workflowId: handle.workflowId, state });
      else line(ctx.io.stdout, `Cluster manager of cluster ${ctx.cluster}: ${state.runState}`);
      return ExitCode.ok;
    }
  }
}

export function managerInput(
  ctx: Context,
  command: { automation?: ManagerInput['automation']; seed?: number },
): ManagerInput {
  const { config } = ctx;
  return {
    cluster: ctx.cluster,
    settings: coreSettingsOf(config),
    rules: ruleConfigsOf(config),
    automation: command.automation ?? config.manager.automation,
    cycleSeconds: config.manager.cycleSeconds,
    seed: command.seed ?? randomSeed(),
  };
}

async function approve(ctx: Context, ids: string[]): Promise<number> {
  const client = await ctx.temporal();
  const handle = await runningLoop(ctx, client, managerLoop);
  const approved = await askLoop(ctx, client, managerLoop, () =>
    handle.executeUpdate(approveUpdate, { args: [ids] }),
  );
  const missing = ids[0] === 'all' ? [] : ids.filter((id) => !approved.includes(id));
  if (ctx.global.json) printJson(ctx.io, { workflowId: handle.workflowId, approved, notApproved: missing });
  else {
    line(ctx.io.stdout, approved.length === 0 ? 'Nothing was approved.' : `Approved: ${approved.join(', ')}`);
  }
  if (missing.length === 0) return ExitCode.ok;
  line(
    ctx.io.stderr,
    `Not approved (unknown, or no longer recommended): ${missing.join(', ')}; see pve-autopilot manager status`,
  );
  return ExitCode.refused;
}

async function managerStatus(ctx: Context): Promise<number> {
  const client = await ctx.temporal();
  const description = await describeLoop(client, managerLoop, ctx.cluster);
  const workflowId = managerLoop.workflowId(ctx.cluster);
  if (description === null) {
    if (ctx.global.json) printJson(ctx.io, { workflowId, running: false, workflowStatus: null, state: null });
    else
      line(
        ctx.io.stdout,
        `The cluster manager of cluster ${ctx.cluster} was never started (pve-autopilot manager start).`,
      );
    return ExitCode.ok;
  }
  const running = description.status.name === 'RUNNING';
  const handle = client.workflow.getHandle(workflowId);
  const query = askLoop(ctx, client, managerLoop, () => handle.query(managerStatusQuery));
  // A finished run may have nothing left to answer with; its end is then all there is to say.
  const state = running ? await query : await query.catch(() => null);
  const url = ctx.workflowUrl(workflowId);
  if (ctx.global.json) {
    printJson(ctx.io, { workflowId, running, workflowStatus: description.status.name, url, state });
  } else if (state === null) {
    line(
      ctx.io.stdout,
      `Cluster manager of cluster ${ctx.cluster}: ${description.status.name.toLowerCase()}`,
    );
    line(ctx.io.stdout, `  workflow ${workflowId}  ${url}`);
  } else {
    printState(ctx, state, workflowId);
  }
  return ExitCode.ok;
}

function printState(ctx: Context, state: ManagerState, workflowId: string): void {
  const out = ctx.io.stdout;
  const lab = state.rules.lab as { migratePercent?: number; dropPercent?: number } | undefined;
  line(
    out,
    `Cluster manager of cluster ${ctx.cluster}: ${state.runState}, automation ${state.automation}, cycle ${state.cycle}`,
  );
  line(out, `  workflow ${workflowId}  ${ctx.workflowUrl(workflowId)}`);
  for (const [name, rule] of Object.entries(state.rules)) {
    line(
      out,
      `  rule ${name}: ${rule.enabled ? `automation ${rule.automation}, priority ${rule.priority}` : 'disabled'}`,
    );
  }
  if (lab?.migratePercent !== undefined) {
    line(
      out,
      `  thresholds: migrate over ${lab.migratePercent} %, drop over ${lab.dropPercent} % (${state.settings.capacityBasis} memory)`,
    );
  }
  const obs = state.lastObservation;
  if (obs !== undefined) {
    line(out);
    line(out, `Last observation at ${clock(obs.at)} UTC: ${obs.managedContainers} managed containers`);
    line(
      out,
      table(
        ['NODE', 'STATUS', 'MANAGED %', 'USED %', 'CTS'],
        obs.nodes.map((n) => [
          n.name,
          n.status,
          showPercent(n.managedPercent),
          showPercent(n.usedPercent),
          String(n.containers),
        ]),
        [2, 3, 4],
      ),
    );
  }
  for (const note of state.notes ?? []) line(out, `  note: ${note}`);
  line(out);
  const decisions = state.core.decisions.slice(-SHOWN_DECISIONS);
  if (decisions.length === 0) {
    line(out, 'Decisions: none yet');
    return;
  }
  line(out, `Decisions (latest ${decisions.length}):`);
  line(
    out,
    table(
      ['ID', 'TIME (UTC)', 'STATUS', 'ACTION', 'DETAIL'],
      decisions.map((d) => [
        d.id,
        clock(d.at),
        d.status,
        formatAction(d.action),
        d.detail ?? d.action.reason,
      ]),
    ),
  );
  if (decisions.some((d) => d.status === 'recommended')) {
    line(out);
    line(out, 'Approve with: pve-autopilot manager approve ID... (or --all)');
  }
}

/** e.g. `lab (migrate over 8 %, drop over 12 %)`: the enabled rules, the lab's thresholds shown. */
function describeRules(config: Context['config']): string {
  const names = ruleNames.filter((name) => config[name].enabled);
  if (names.length === 0) return 'none enabled';
  return names
    .map((name) =>
      name === 'lab'
        ? `lab (migrate over ${config.lab.migratePercent} %, drop over ${config.lab.dropPercent} %)`
        : name,
    )
    .join(', ');
}
