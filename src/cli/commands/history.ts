// `pve-autopilot history`: past container operations of this cluster from Temporal's visibility
// (the Pve* search attributes every saga sets), newest first, each with its outcome and the reason
// the run gives: what it did, why it was refused, rolled back or needs attention.
import { WorkflowFailedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { operationKinds, type OperationResult } from '../../domain';
import { PveNode, PveOperation, PveOutcome, PveVmid } from '../../../workflows/search-attributes';
import type { Command } from '../args';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson, table } from '../output';

export interface HistoryRow {
  workflowId: string;
  runId: string;
  operation: string;
  vmid: string | null;
  node: string | null;
  /** succeeded, refused, rolled-back, needs-attention; running while open; else Temporal's status. */
  outcome: string;
  startedAt: string;
  closedAt: string | null;
  /** The run's one-line summary (what was asked and why, when the manager started it). */
  summary: string | null;
  /** How it ended, in the saga's words. */
  reason: string | null;
  url: string;
}

type HistoryCommand = Extract<Command, { name: 'history' }>;

/** The visibility query for the filters; values are checked by the parser, quoted here all the same. */
export function historyQuery(cmd: Omit<HistoryCommand, 'name' | 'limit'>): string {
  const kinds = operationKinds.map((k) => `'${k}'`).join(', ');
  const parts = [`PveOperation IN (${kinds})`];
  if (cmd.vmid !== undefined) parts.push(`PveVmid = '${cmd.vmid}'`);
  if (cmd.outcome === 'running') parts.push(`ExecutionStatus = 'Running'`);
  else if (cmd.outcome !== undefined) parts.push(`PveOutcome = '${cmd.outcome}'`);
  if (cmd.sinceMs !== undefined) parts.push(`StartTime >= '${new Date(cmd.sinceMs).toISOString()}'`);
  return parts.join(' AND ');
}

export async function historyCommand(ctx: Context, cmd: HistoryCommand): Promise<number> {
  const client = await ctx.temporal();
  const prefixes = [`ct-${ctx.cluster}-`, `provision-${ctx.cluster}-`];
  const found: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query: historyQuery(cmd) })) {
    if (prefixes.some((p) => wf.workflowId.startsWith(p))) found.push(wf);
  }
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  const rows = await Promise.all(found.slice(0, cmd.limit).map((wf) => rowOf(ctx, client, wf)));

  if (ctx.global.json) printJson(ctx.io, { cluster: ctx.cluster, runs: rows });
  else if (rows.length === 0) line(ctx.io.stdout, 'No operations match.');
  else {
    line(
      ctx.io.stdout,
      table(
        ['STARTED', 'WORKFLOW', 'OPERATION', 'VMID', 'NODE', 'OUTCOME', 'REASON'],
        rows.map((r) => [
          r.startedAt.slice(0, 19).replace('T', ' '),
          r.workflowId,
          r.operation,
          r.vmid ?? '-',
          r.node ?? '-',
          r.outcome,
          oneLine(r.reason ?? r.summary ?? ''),
        ]),
      ),
    );
  }
  return ExitCode.ok;
}

async function rowOf(ctx: Context, client: Client, wf: WorkflowExecutionInfo): Promise<HistoryRow> {
  const sa = wf.typedSearchAttributes;
  const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
  const [summary, ending] = await Promise.all([
    handle
      .describe()
      .then((d) => d.staticSummary())
      .catch(() => undefined),
    wf.status.name === 'RUNNING' ? Promise.resolve(null) : endingOf(handle),
  ]);
  const outcome =
    wf.status.name === 'RUNNING' ? 'running' : (sa.get(PveOutcome) ?? wf.status.name.toLowerCase());
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    operation: sa.get(PveOperation) ?? wf.type,
    vmid: sa.get(PveVmid) ?? null,
    node: sa.get(PveNode) ?? null,
    outcome,
    startedAt: wf.startTime.toISOString(),
    closedAt: wf.closeTime?.toISOString() ?? null,
    summary: summary ?? null,
    reason: ending,
    url: ctx.workflowUrl(wf.workflowId),
  };
}

/** The saga's own words on how it ended: its result's detail, or its failure's message. */
async function endingOf(handle: { result(): Promise<unknown> }): Promise<string | null> {
  try {
    const result = (await handle.result()) as Partial<OperationResult> | undefined;
    return typeof result?.detail === 'string' ? result.detail : null;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) return err instanceof Error ? err.message : null;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const detail = (cause.details?.[0] as Partial<OperationResult> | undefined)?.detail;
      return typeof detail === 'string' && detail ? detail : cause.message;
    }
    return cause?.message ?? err.message;
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}
