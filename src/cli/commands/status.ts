// `pve-autopilot status`: the cluster as the INSA lab printed it (nodes, then containers, with CPU,
// memory and disk in percent), locks, and the operations in flight according to Temporal.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { managedScopeOf } from '../../config';
import { operationKinds } from '../../domain';
import { PveNeedsAttention, PveNode, PveOperation, PveVmid } from '../../../workflows/search-attributes';
import {
  clusterManagerWorkflowId,
  generatorWorkflowId,
  managerStatusQuery,
} from '../../../workflows/messages';
import { clusterView, observe, type ClusterView } from '../cluster';
import type { Context } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { duration, line, printJson, showPercent, table } from '../output';
import { drainPhrases } from './node';

export interface OperationRow {
  workflowId: string;
  operation: string;
  vmid: string | null;
  node: string | null;
  startedAt: string;
  url: string;
}

/** A run that failed and could not roll back, and is still the last run on its container. */
export interface AttentionRow {
  workflowId: string;
  operation: string;
  vmid: string | null;
  closedAt: string | null;
  url: string;
}

/** For each long-running workflow: "running", or how its last run ended, or "not started". */
export interface LoopStates {
  generator: string;
  manager: string;
}

export async function statusCommand(ctx: Context): Promise<number> {
  const view = clusterView(await observe(ctx), managedScopeOf(ctx.config), ctx.config.zones);
  let operations: OperationRow[] | null = null;
  let loops: LoopStates | null = null;
  let attention: AttentionRow[] | null = null;
  let managed: Map<string, number> | null = null;
  let drains: Record<string, string> | null = null;
  let temporalError: string | null = null;
  try {
    const client = await ctx.temporal();
    [operations, loops, attention, managed, drains] = await Promise.all([
      operationsInFlight(ctx, client),
      loopStates(ctx, client),
      needsAttention(ctx, client),
      managedPercents(ctx, client),
      drainPhrases(client, ctx.cluster),
    ]);
  } catch (err) {
    // The cluster part is worth printing on its own; what Temporal knows is reported as unknown.
    if (!(err instanceof CliError) || err.code !== ExitCode.unreachable) throw err;
    temporalError = err.message;
  }
  const locks = view.containers.flatMap((c) =>
    c.lock === undefined ? [] : [{ vmid: c.vmid, lock: c.lock }],
  );

  if (ctx.global.json) {
    printJson(ctx.io, {
      cluster: ctx.cluster,
      // drain: the node's drain phase, null when not drained (undefined: Temporal unreachable).
      nodes: view.nodes.map((n) => ({
        ...n,
        managedPercent: managed?.get(n.name) ?? null,
        drain: drains === null ? undefined : (drains[n.name] ?? null),
      })),
      containers: view.containers,
      locks,
      operations,
      needsAttention: attention,
      loops,
      temporal: {
        address: ctx.config.temporal.address,
        reachable: temporalError === null,
        error: temporalError,
      },
    });
  } else {
    printHuman(ctx, view, locks, operations, loops, temporalError, attention, managed, drains);
  }
  return temporalError === null ? ExitCode.ok : ExitCode.unreachable;
}

function printHuman(
  ctx: Context,
  view: ClusterView,
  locks: ReadonlyArray<{ vmid: number; lock: string }>,
  operations: readonly OperationRow[] | null,
  loops: LoopStates | null,
  temporalError: string | null,
  attention: readonly AttentionRow[] | null,
  managed: ReadonlyMap<string, number> | null,
  drains: Readonly<Record<string, string>> | null,
): void {
  const out = ctx.io.stdout;
  line(out, `Cluster ${ctx.cluster}`);
  line(out);
  // MANAGED %: the share of the node's memory in managed containers, as the manager measures it
  // (manager.capacityBasis), next to the node's own MEM %; shown while a manager has observed.
  const withManaged = managed !== null && managed.size > 0;
  line(
    out,
    table(
      [
        'NODE',
        'ZONE',
        'STATUS',
        'CPU %',
        'MEM %',
        ...(withManaged ? ['MANAGED %'] : []),
        'DISK %',
        'CTS',
        'DRAIN',
      ],
      view.nodes.map((n) => [
        n.name,
        n.zone ?? '-',
        n.status,
        showPercent(n.cpuPercent),
        showPercent(n.memPercent),
        ...(withManaged ? [showPercent(managed.get(n.name) ?? null)] : []),
        showPercent(n.diskPercent),
        String(n.containers),
        drains === null ? '?' : (drains[n.name] ?? '-'),
      ]),
      withManaged ? [3, 4, 5, 6, 7] : [3, 4, 5, 6],
    ),
  );
  line(out);
  line(
    out,
    table(
      ['VMID', 'NAME', 'NODE', 'STATUS', 'CPU %', 'MEM %', 'DISK %', 'MANAGED'],
      view.containers.map((c) => [
        String(c.vmid),
        c.name,
        c.node,
        c.status,
        showPercent(c.cpuPercent),
        showPercent(c.memPercent),
        showPercent(c.diskPercent),
        c.managed ? 'yes' : 'no',
      ]),
      [0, 4, 5, 6],
    ),
  );
  line(out);
  if (locks.length === 0) line(out, 'Locks: none');
  else {
    line(out, 'Locks:');
    for (const l of locks) line(out, `  CT ${l.vmid}: ${l.lock}`);
  }
  line(out);
  if (temporalError !== null) {
    line(out, 'Operations in flight: unknown (Temporal is unreachable)');
    line(ctx.io.stderr, temporalError);
    return;
  }
  if (operations === null || operations.length === 0) line(out, 'Operations in flight: none');
  else {
    line(out, 'Operations in flight:');
    const now = Date.now();
    line(
      out,
      table(
        ['WORKFLOW', 'OPERATION', 'VMID', 'NODE', 'RUNNING FOR'],
        operations.map((o) => [
          o.workflowId,
          o.operation,
          o.vmid ?? '-',
          o.node ?? '-',
          duration(now - Date.parse(o.startedAt)),
        ]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (attention !== null && attention.length > 0) {
    line(out);
    line(
      out,
      'Needs attention (failed and could not roll back; see pve-autopilot history --outcome needs-attention):',
    );
    for (const a of attention)
      line(
        out,
        `  ${a.workflowId}  ${a.operation} CT ${a.vmid ?? '?'}  ended ${a.closedAt ?? '?'}  ${a.url}`,
      );
  }
  if (loops !== null) {
    line(out);
    line(out, `Generator: ${loops.generator}    Manager: ${loops.manager}`);
  }
}

/**
 * Needs-attention runs still open: the last run on their container (a later run there means
 * someone has dealt with it).
 */
async function needsAttention(ctx: Context, client: Client): Promise<AttentionRow[]> {
  const prefixes = [`ct-${ctx.cluster}-`, `provision-${ctx.cluster}-`];
  const rows: AttentionRow[] = [];
  for await (const wf of client.workflow.list({ query: 'PveNeedsAttention = true' })) {
    if (!prefixes.some((p) => wf.workflowId.startsWith(p))) continue;
    const latest = await client.workflow.getHandle(wf.workflowId).describe();
    if (latest.runId !== wf.runId) continue;
    const sa = wf.typedSearchAttributes;
    if (sa.get(PveNeedsAttention) !== true) continue;
    rows.push({
      workflowId: wf.workflowId,
      operation: sa.get(PveOperation) ?? wf.type,
      vmid: sa.get(PveVmid) ?? null,
      closedAt: wf.closeTime?.toISOString() ?? null,
      url: ctx.workflowUrl(wf.workflowId),
    });
  }
  return rows;
}

/** node → managed memory % from the running manager's last observation; empty without one. */
async function managedPercents(ctx: Context, client: Client): Promise<Map<string, number>> {
  const handle = client.workflow.getHandle(clusterManagerWorkflowId(ctx.cluster));
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return new Map();
    // A manager without a worker does not answer: the node table goes without the column.
    const state = await client.withDeadline(Date.now() + 3000, () => handle.query(managerStatusQuery));
    return new Map((state.lastObservation?.nodes ?? []).map((n) => [n.name, n.managedPercent]));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || !(err instanceof Error)) return new Map();
    if (/deadline|no poller|not found/i.test(err.message)) return new Map();
    throw err;
  }
}

/** Running sagas of this cluster, from visibility: ids are ct-<cluster>-<vmid> or provision-<cluster>-.... */
async function operationsInFlight(ctx: Context, client: Client): Promise<OperationRow[]> {
  const kinds = operationKinds.map((k) => `'${k}'`).join(', ');
  const query = `ExecutionStatus = 'Running' AND PveOperation IN (${kinds})`;
  const prefixes = [`ct-${ctx.cluster}-`, `provision-${ctx.cluster}-`];
  const rows: OperationRow[] = [];
  for await (const wf of client.workflow.list({ query })) {
    if (!prefixes.some((p) => wf.workflowId.startsWith(p))) continue;
    const sa = wf.typedSearchAttributes;
    rows.push({
      workflowId: wf.workflowId,
      operation: sa.get(PveOperation) ?? wf.type,
      vmid: sa.get(PveVmid) ?? null,
      node: sa.get(PveNode) ?? null,
      startedAt: wf.startTime.toISOString(),
      url: ctx.workflowUrl(wf.workflowId),
    });
  }
  return rows.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

async function loopStates(ctx: Context, client: Client): Promise<LoopStates> {
  const stateOf = async (workflowId: string): Promise<string> => {
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      return d.status.name === 'RUNNING' ? 'running' : `not running (${d.status.name.toLowerCase()})`;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'not started';
      throw err;
    }
  };
  const [generator, manager] = await Promise.all([
    stateOf(generatorWorkflowId(ctx.cluster)),
    stateOf(clusterManagerWorkflowId(ctx.cluster)),
  ]);
  return { generator, manager };
}
