// `pve-autopilot alerts`: the alerts firing now, the recent fired/resolved events, and what waits
// for a sink that is down, read from the alerts workflow through its query.
import { WorkflowNotFoundError } from '@temporalio/client';
import { alertsViewQuery, alertsWorkflowId, type AlertsView } from '../../alerts';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { line, printJson, table } from '../output';
import { clock } from './long-running';

const ANSWER_DEADLINE_MS = 20_000;

export async function alertsCommand(ctx: Context): Promise<number> {
  const client = await ctx.temporal();
  const workflowId = alertsWorkflowId(ctx.cluster);
  const url = ctx.workflowUrl(workflowId);
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    if (ctx.global.json) printJson(ctx.io, { workflowId, running: false, view: null });
    else
      line(
        ctx.io.stdout,
        `No alerts for cluster ${ctx.cluster}: a worker starts them when its config has alerts.rules.`,
      );
    return ExitCode.ok;
  }
  let view: AlertsView;
  try {
    view = await client.withDeadline(Date.now() + ANSWER_DEADLINE_MS, () => handle.query(alertsViewQuery));
  } catch (err) {
    if (status !== 'RUNNING') {
      throw new CliError(
        ExitCode.failed,
        `the alerts workflow ${workflowId} is ${status.toLowerCase()} (${url})`,
      );
    }
    throw new CliError(
      ExitCode.unreachable,
      `the alerts workflow did not answer: is a worker polling task queue ${ctx.config.temporal.taskQueue}? ` +
        `(${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (ctx.global.json) {
    printJson(ctx.io, { workflowId, running: status === 'RUNNING', url, view });
    return ExitCode.ok;
  }
  printView(ctx, view, workflowId, url);
  return ExitCode.ok;
}

function printView(ctx: Context, view: AlertsView, workflowId: string, url: string): void {
  const out = ctx.io.stdout;
  const evaluated =
    view.lastEvaluatedAt === undefined
      ? 'not evaluated yet'
      : `last evaluated ${clock(view.lastEvaluatedAt)} UTC`;
  line(out, `Alerts of cluster ${ctx.cluster}: ${view.firing.length} firing, ${evaluated}`);
  line(out, `  workflow ${workflowId}  ${url}`);
  for (const problem of view.problems) line(out, `  could not read: ${problem}`);
  line(out);
  if (view.firing.length === 0) line(out, 'Nothing is firing.');
  else
    line(
      out,
      table(
        ['SINCE (UTC)', 'SEVERITY', 'RULE', 'SUBJECT', 'SUMMARY'],
        view.firing.map((a) => [clock(a.firedAt), a.severity, a.rule, a.subject, a.summary]),
      ),
    );
  if (view.recent.length > 0) {
    line(out);
    line(out, 'Recent:');
    line(
      out,
      table(
        ['TIME (UTC)', 'STATUS', 'SEVERITY', 'RULE', 'SUBJECT', 'SUMMARY'],
        view.recent.map((e) => [clock(e.at), e.status, e.severity, e.rule, e.subject, e.summary]),
      ),
    );
  }
  const waiting = Object.entries(view.pending).filter(([, n]) => n > 0);
  if (waiting.length > 0) {
    line(out);
    line(
      out,
      `Waiting for their sink (retried until it answers): ${waiting.map(([s, n]) => `${s} ${n}`).join(', ')}`,
    );
  }
}
