// `pve-autopilot autoscale status`: what the running manager's autoscale rule thinks of each managed
// container, from its carried window and its last observation: current and target cores and memory,
// the window's values, the cooldown left, and why it is scaling or not. Reads no Proxmox API.
import { autoscaleConfigSchema, type AutoscaleReport, type AutoscaleState } from '../../policy';
import {
  roundActionable,
  assessAutoscale,
  emptyAutoscaleState,
  nodeLoadsOf,
  projectCluster,
  type RuleView,
} from '../../policy';
import { lastSnapshotQuery, managerStatusQuery } from '../../../workflows/messages';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { clock, askLoop, managerLoop, runningLoop } from './long-running';
import { line, printJson, table } from '../output';

export async function autoscaleStatusCommand(ctx: Context): Promise<number> {
  const client = await ctx.temporal();
  const handle = await runningLoop(ctx, client, managerLoop);
  const [state, snapshot] = await askLoop(ctx, client, managerLoop, () =>
    Promise.all([handle.query(managerStatusQuery), handle.query(lastSnapshotQuery)]),
  );
  const parsed = autoscaleConfigSchema.safeParse(state.rules.autoscale ?? {});
  const config = parsed.success ? parsed.data : autoscaleConfigSchema.parse({});
  const enabled = config.enabled && config.automation !== 'off' && state.automation !== 'off';
  const now = Date.now();
  let reports: AutoscaleReport[] = [];
  if (snapshot) {
    const running = state.core.decisions.filter((d) => d.status === 'running');
    const cluster = projectCluster(
      snapshot,
      state.settings,
      running.map((d) => d.action),
    );
    const view: RuleView = {
      snapshot,
      settings: state.settings,
      now,
      loads: nodeLoadsOf(cluster),
      actionable: roundActionable(snapshot, state.settings, cluster, state.core.cooldownUntil, now),
      inFlight: running.map((d) => d.action),
      random: () => 0,
    };
    const ruleState =
      (state.core.ruleStates.autoscale as AutoscaleState | undefined) ?? emptyAutoscaleState();
    reports = assessAutoscale(view, config, ruleState).reports;
    // An operation in flight says more than "not actionable": show where it takes the container.
    for (const d of running) {
      if (d.action.kind !== 'scale') continue;
      const vmid = d.action.vmid;
      const r = reports.find((x) => x.vmid === vmid);
      if (!r) continue;
      r.targetCores = d.action.cores ?? r.cores;
      r.targetMemoryMiB = d.action.memoryMiB ?? r.memoryMiB;
      r.why = `scaling now (${d.id}, ${d.rule ?? 'manager'}): ${d.action.reason}`;
    }
  }

  if (ctx.global.json) {
    printJson(ctx.io, {
      cluster: ctx.cluster,
      workflowId: handle.workflowId,
      enabled,
      cycle: state.cycle,
      observedAt: snapshot?.takenAt ?? null,
      containers: reports,
    });
    return ExitCode.ok;
  }
  const out = ctx.io.stdout;
  const when = snapshot ? `observation of ${clock(snapshot.takenAt)} UTC` : 'no observation yet';
  line(
    out,
    `Autoscaling in cluster ${ctx.cluster}: ${enabled ? 'on' : 'off'} (cycle ${state.cycle}, ${when})`,
  );
  if (!config.enabled) line(out, '  autoscale.enabled is false in the running manager: nothing is scaled.');
  if (reports.length === 0) {
    line(out, 'No managed containers observed.');
    return ExitCode.ok;
  }
  const arrow = (now: number, target: number) => (now === target ? `${now}` : `${now} → ${target}`);
  const pct = (p: number | null) => (p === null ? '-' : `${p}`);
  line(
    out,
    table(
      ['VMID', 'NODE', 'CORES', 'MEMORY MiB', 'CPU %', 'MEM %', 'COOLDOWN', 'WHY'],
      reports.map((r) => [
        String(r.vmid),
        r.node,
        arrow(r.cores, r.targetCores),
        arrow(r.memoryMiB, r.targetMemoryMiB),
        pct(r.cpuPercent),
        pct(r.memoryPercent),
        r.cooldownLeftSeconds > 0 ? `${r.cooldownLeftSeconds} s` : '-',
        r.why,
      ]),
      [4, 5],
    ),
  );
  line(
    out,
    `CPU % and MEM % are the window's ${config.percentile === undefined ? 'average' : `p${config.percentile}`} of ${config.evaluationPeriods} cycles.`,
  );
  return ExitCode.ok;
}
