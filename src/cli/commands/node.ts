// `pve-autopilot node drain|undrain|status`: node maintenance. A drain is the durable workflow
// drain-<cluster>-<node> (workflows/node-drain.ts); while it runs the node is drained. This module
// starts and ends drains, follows one, and lists the drained nodes for status, manager start and
// generator start (which hand the set to the workflows they start).
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { coreSettingsOf, managedScopeOf } from '../../config';
import { describeIssues, isManaged } from '../../domain';
import { splitTags, type ClusterResource } from '../../proxmox';
import {
  clusterManagerWorkflowId,
  generatorStatusQuery,
  generatorWorkflowId,
  managerStatusQuery,
  nodeDrainChangedSignal,
  nodeDrainWorkflowId,
  type NodeDrainChange,
} from '../../../workflows/messages';
import {
  nodeDrainInputSchema,
  nodeDrainStatusQuery,
  undrainNodeUpdate,
  type NodeDrainInput,
  type NodeDrainState,
} from '../../../workflows/node-drain-messages';
import { PveNode, PveOperation } from '../../../workflows/search-attributes';
import type { NodeCommand } from '../args';
import { observe, requireNode } from '../cluster';
import type { Context } from '../context';
import { CliError, ExitCode, UsageError } from '../exit-codes';
import { duration, line, printJson, ProgressLine, table } from '../output';

export const NODE_DRAIN_WORKFLOW_TYPE = 'nodeDrainWorkflow';
const POLL_MS = 1000;
const ANSWER_DEADLINE_MS = 20_000;
const NO_WORKER_HINT_MS = 10_000;

export async function nodeCommand(ctx: Context, command: NodeCommand): Promise<number> {
  switch (command.action) {
    case 'drain':
      return drain(ctx, command);
    case 'undrain':
      return undrain(ctx, command.node);
    case 'status':
      return drainStatus(ctx);
  }
}

/** The nodes of `cluster` with a running drain workflow, sorted. From visibility, so seconds-fresh. */
export async function runningDrains(client: Client, cluster: string): Promise<string[]> {
  const prefix = nodeDrainWorkflowId(cluster, '');
  const query = `WorkflowType = '${NODE_DRAIN_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  const nodes: string[] = [];
  for await (const wf of client.workflow.list({ query })) {
    if (wf.workflowId.startsWith(prefix)) nodes.push(wf.workflowId.slice(prefix.length));
  }
  return [...new Set(nodes)].sort();
}

/** Each drained node's drain as one short phrase (`evacuating, 12 left`), for status's DRAIN column. */
export async function drainPhrases(client: Client, cluster: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const node of await runningDrains(client, cluster)) {
    const state = await client
      .withDeadline(Date.now() + 3000, () =>
        client.workflow.getHandle(nodeDrainWorkflowId(cluster, node)).query(nodeDrainStatusQuery),
      )
      .catch(() => null);
    out[node] = state === null ? 'drained' : phrase(state);
  }
  return out;
}

function phrase(s: NodeDrainState): string {
  switch (s.phase) {
    case 'evacuating':
      return `evacuating, ${s.remaining.length} left`;
    case 'blocked':
      return `blocked, ${s.remaining.length} left`;
    default:
      return s.phase;
  }
}

async function drain(ctx: Context, command: Extract<NodeCommand, { action: 'drain' }>): Promise<number> {
  const name = 'node drain';
  const { node, parallel } = command;
  const resources = await observe(ctx);
  requireNode(resources, node, name);
  const nodes = resources.filter((r) => r.type === 'node');
  const status = nodes.find((r) => nodeName(r) === node)?.status;
  if (status !== 'online') {
    throw new CliError(
      ExitCode.refused,
      `${name}: node ${node} is ${status ?? 'unknown'}: its containers cannot be migrated now; nothing was started`,
    );
  }
  const client = await ctx.temporal();
  const workflowId = nodeDrainWorkflowId(ctx.cluster, node);
  const url = ctx.workflowUrl(workflowId);
  if ((await describe(client, workflowId))?.status.name === 'RUNNING') {
    throw new CliError(
      ExitCode.refused,
      `${name}: node ${node} is already drained (workflow ${workflowId}, ${url}); ` +
        `pve-autopilot node status shows how far it is, pve-autopilot node undrain ${node} ends it`,
    );
  }
  const others = (await runningDrains(client, ctx.cluster)).filter((n) => n !== node);
  const open = nodes.filter(
    (r) => r.status === 'online' && nodeName(r) !== node && !others.includes(nodeName(r)),
  );
  if (open.length === 0) {
    throw new CliError(
      ExitCode.refused,
      `${name}: no other online node that is not drained could take the containers of ${node}` +
        `${others.length > 0 ? ` (drained: ${others.join(', ')})` : ''}; nothing was started`,
    );
  }
  const input: NodeDrainInput = {
    cluster: ctx.cluster,
    node,
    parallel,
    settings: { ...coreSettingsOf(ctx.config), drainedNodes: others },
  };
  const checked = nodeDrainInputSchema.safeParse(input);
  if (!checked.success)
    throw new UsageError(`${name}: invalid input: ${describeIssues(checked.error)}`, name);

  const { managed, left } = guestsOn(ctx, resources, node);
  let handle: WorkflowHandle;
  try {
    handle = await client.workflow.start(NODE_DRAIN_WORKFLOW_TYPE, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: `drain ${node}: move its managed containers off, ${parallel} at a time`,
      typedSearchAttributes: [
        { key: PveOperation, value: 'drain' },
        { key: PveNode, value: node },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(
        ExitCode.refused,
        `${name}: node ${node} is already drained (workflow ${workflowId})`,
      );
    }
    throw err;
  }
  if (!ctx.global.json) {
    line(
      ctx.io.stdout,
      `Started: drain of ${node}, ${parallel} migration(s) at a time: ${managed} managed container(s) to move`,
    );
    line(ctx.io.stdout, `  workflow ${workflowId}  ${url}`);
    line(ctx.io.stdout, `  left on ${node} (not managed): ${left.length > 0 ? left.join(', ') : 'none'}`);
  }
  if (!command.wait) {
    if (ctx.global.json) printJson(ctx.io, { workflowId, url, node, parallel, managed, leftUnmanaged: left });
    return ExitCode.ok;
  }
  const ending = await follow(ctx, client, handle, node);
  if (ending === 'interrupted') {
    line(ctx.io.stderr, `Stopped waiting; the drain goes on: ${url}`);
    return 130;
  }
  return reportDrain(ctx, workflowId, url, ending, left);
}

type DrainEnding = { kind: 'drained' | 'blocked'; state: NodeDrainState } | { kind: 'ended'; status: string };

/** Queries the drain every second until the node is drained, blocked, or the drain ended. */
async function follow(
  ctx: Context,
  client: Client,
  handle: WorkflowHandle,
  node: string,
): Promise<DrainEnding | 'interrupted'> {
  const progress = new ProgressLine(ctx.io.stderr);
  const show = !ctx.global.json;
  const began = Date.now();
  let answered = false;
  let hinted = false;
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => {
    interrupt = () => resolve('interrupted');
  });
  process.once('SIGINT', interrupt);
  try {
    for (;;) {
      const state = await client
        .withDeadline(Date.now() + 3 * POLL_MS, () => handle.query(nodeDrainStatusQuery))
        .catch(() => null);
      if (state !== null) {
        answered = true;
        if (show) {
          const moving = state.inFlight.map((m) => `${m.vmid}→${m.to}`).join(' ');
          progress.show(
            `drain ${node}: ${state.phase}, moved ${state.moved.length}, ${state.remaining.length} left` +
              `${moving ? `, moving ${moving}` : ''} (${duration(Date.now() - began)})`,
          );
        }
        if (state.phase === 'drained') return { kind: 'drained', state };
        if (state.phase === 'blocked' && state.inFlight.length === 0) return { kind: 'blocked', state };
      } else {
        const d = await handle.describe().catch(() => null);
        if (d !== null && d.status.name !== 'RUNNING') return { kind: 'ended', status: d.status.name };
        if (!answered && !hinted && Date.now() - began > NO_WORKER_HINT_MS && show) {
          hinted = true;
          progress.end();
          line(
            ctx.io.stderr,
            `No progress yet: is a worker polling task queue ${ctx.config.temporal.taskQueue}? (npm run worker)`,
          );
        }
      }
      const next = await Promise.race([interrupted, sleep(POLL_MS)]);
      if (next === 'interrupted') return next;
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    progress.end();
  }
}

function reportDrain(
  ctx: Context,
  workflowId: string,
  url: string,
  ending: DrainEnding,
  left: readonly string[],
): number {
  if (ending.kind === 'ended') {
    const message = `the drain ended (${ending.status.toLowerCase()}) before the node was drained: ${url}`;
    if (ctx.global.json) printJson(ctx.io, { workflowId, url, outcome: 'ended', status: ending.status });
    else line(ctx.io.stdout, message);
    return ExitCode.failed;
  }
  const { state } = ending;
  const seconds =
    state.drainedAt === undefined ? null : Math.round((state.drainedAt - state.startedAt) / 100) / 10;
  if (ctx.global.json) {
    printJson(ctx.io, {
      workflowId,
      url,
      outcome: ending.kind,
      drainSeconds: seconds,
      leftUnmanaged: left,
      state,
    });
  } else if (ending.kind === 'drained') {
    line(
      ctx.io.stdout,
      `Drained: ${state.node} has no managed container left; ${state.moved.length} moved` +
        `${seconds === null ? '' : ` in ${seconds} s`}`,
    );
    line(
      ctx.io.stdout,
      `  left on ${state.node} (not managed): ${left.length > 0 ? left.join(', ') : 'none'}`,
    );
    line(ctx.io.stdout, `  it takes no container until: pve-autopilot node undrain ${state.node}`);
  } else {
    line(
      ctx.io.stdout,
      `Blocked: ${state.remaining.length} managed container(s) cannot leave ${state.node} now:`,
    );
    for (const b of state.blocked) line(ctx.io.stdout, `  ${b.vmid > 0 ? `CT ${b.vmid}: ` : ''}${b.why}`);
    line(ctx.io.stdout, `  the drain goes on and looks again every 30 s: ${url}`);
  }
  return ending.kind === 'drained' ? ExitCode.ok : ExitCode.failed;
}

async function undrain(ctx: Context, node: string): Promise<number> {
  const client = await ctx.temporal();
  const workflowId = nodeDrainWorkflowId(ctx.cluster, node);
  if ((await describe(client, workflowId))?.status.name !== 'RUNNING') {
    return clearStaleFlag(ctx, client, node);
  }
  const handle = client.workflow.getHandle(workflowId);
  try {
    await client.withDeadline(Date.now() + ANSWER_DEADLINE_MS, () =>
      handle.startUpdate(undrainNodeUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(
        ExitCode.refused,
        `node undrain: the drain refused: ${err.cause?.message ?? err.message}`,
      );
    }
    throw new CliError(
      ExitCode.unreachable,
      `node undrain: the drain of ${node} did not answer within ${ANSWER_DEADLINE_MS / 1000} s: is a worker ` +
        `polling task queue ${ctx.config.temporal.taskQueue}? (npm run worker)`,
    );
  }
  if (!ctx.global.json) line(ctx.io.stderr, `Undraining ${node}: the migrations in flight finish first`);
  const state = (await handle.result()) as NodeDrainState;
  if (ctx.global.json) printJson(ctx.io, { workflowId, node, undrained: true, state });
  else {
    line(
      ctx.io.stdout,
      `Undrained: ${node} takes containers again (the drain moved ${state.moved.length}, ${state.remaining.length} managed left on it)`,
    );
  }
  return ExitCode.ok;
}

/**
 * No drain runs for the node. The manager or the generator may still hold it as drained (a drain
 * that was terminated never told them): then tell them, else the node was not drained at all.
 */
async function clearStaleFlag(ctx: Context, client: Client, node: string): Promise<number> {
  const change: NodeDrainChange = { node, drained: false };
  const told: string[] = [];
  const holders: Array<[string, (handle: WorkflowHandle) => Promise<string[]>]> = [
    [
      clusterManagerWorkflowId(ctx.cluster),
      async (h) => (await h.query(managerStatusQuery)).settings.drainedNodes,
    ],
    [generatorWorkflowId(ctx.cluster), async (h) => (await h.query(generatorStatusQuery)).drainedNodes ?? []],
  ];
  for (const [id, drainedOf] of holders) {
    if ((await describe(client, id))?.status.name !== 'RUNNING') continue;
    const handle = client.workflow.getHandle(id);
    const drained = await client
      .withDeadline(Date.now() + 5000, () => drainedOf(handle))
      .catch((): string[] => []);
    if (!drained.includes(node)) continue;
    await handle.signal(nodeDrainChangedSignal, change);
    told.push(id);
  }
  if (told.length === 0) {
    throw new CliError(
      ExitCode.refused,
      `node undrain: node ${node} is not drained (no drain workflow runs for it)`,
    );
  }
  if (ctx.global.json) printJson(ctx.io, { node, undrained: true, told });
  else
    line(
      ctx.io.stdout,
      `Undrained: no drain ran for ${node}, but ${told.join(' and ')} held it drained; told them`,
    );
  return ExitCode.ok;
}

async function drainStatus(ctx: Context): Promise<number> {
  const client = await ctx.temporal();
  const states: NodeDrainState[] = [];
  for (const node of await runningDrains(client, ctx.cluster)) {
    const handle = client.workflow.getHandle(nodeDrainWorkflowId(ctx.cluster, node));
    const state = await client
      .withDeadline(Date.now() + ANSWER_DEADLINE_MS, () => handle.query(nodeDrainStatusQuery))
      .catch(() => null);
    if (state !== null) states.push(state);
  }
  if (ctx.global.json) {
    printJson(ctx.io, {
      cluster: ctx.cluster,
      drains: states.map((s) => ({ ...s, workflowId: nodeDrainWorkflowId(ctx.cluster, s.node) })),
    });
    return ExitCode.ok;
  }
  if (states.length === 0) {
    line(ctx.io.stdout, `No node of cluster ${ctx.cluster} is drained.`);
    return ExitCode.ok;
  }
  const now = Date.now();
  line(
    ctx.io.stdout,
    table(
      ['NODE', 'PHASE', 'MOVED', 'LEFT', 'IN FLIGHT', 'K', 'FOR', 'LEFT UNMANAGED'],
      states.map((s) => [
        s.node,
        s.phase,
        String(s.moved.length),
        String(s.remaining.length),
        String(s.inFlight.length),
        String(s.parallel),
        duration(now - s.startedAt),
        s.unmanaged.map((g) => String(g.vmid)).join(' ') || '-',
      ]),
      [2, 3, 4, 5],
    ),
  );
  for (const s of states) {
    for (const b of s.blocked)
      line(ctx.io.stdout, `  ${s.node}: ${b.vmid > 0 ? `CT ${b.vmid}: ` : ''}${b.why}`);
  }
  return ExitCode.ok;
}

/** Managed containers on the node, and the guests a drain leaves there (unmanaged CTs, templates, VMs). */
function guestsOn(
  ctx: Context,
  resources: readonly ClusterResource[],
  node: string,
): { managed: number; left: string[] } {
  const scope = managedScopeOf(ctx.config);
  let managed = 0;
  const left: string[] = [];
  for (const r of resources) {
    if (r.node !== node || r.vmid === undefined || (r.type !== 'lxc' && r.type !== 'qemu')) continue;
    const facts = {
      vmid: r.vmid,
      tags: splitTags(r.tags),
      template: r.template === true,
      ...(r.pool ? { pool: r.pool } : {}),
    };
    if (r.type === 'lxc' && isManaged(facts, scope)) managed++;
    else left.push(`${r.type === 'qemu' ? 'VM' : 'CT'} ${r.vmid}${r.name ? ` (${r.name})` : ''}`);
  }
  return { managed, left };
}

function nodeName(r: ClusterResource): string {
  return r.node ?? r.id.replace(/^node\//, '');
}

async function describe(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | null> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
