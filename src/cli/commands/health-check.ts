// `pve-autopilot health-check`: is this deployment able to work? Config, Temporal (reachable,
// namespace, search attributes, a worker polling), the Proxmox API with the privileges the enabled
// rules need, and the manager cycling. Exit 0 when every check passes, 1 otherwise: what Docker's
// and Kubernetes' health checks expect.
import proto from '@temporalio/proto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConfigError, managedScopeOf, ruleConfigsOf, type Config } from '../../config';
import { ruleNames } from '../../policy/rules/registry';
import { allSearchAttributes } from '../../../workflows/search-attributes';
import {
  clusterManagerWorkflowId,
  generatorWorkflowId,
  managerStatusQuery,
} from '../../../workflows/messages';
import type { GlobalOptions } from '../args';
import { observe } from '../cluster';
import { createContext, type Context } from '../context';
import { CliError } from '../exit-codes';
import { line, printJson, type Io } from '../output';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** skipped: not applicable, or not checkable because an earlier check failed. */
export type CheckStatus = 'ok' | 'fail' | 'skipped';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
}

/** How long one Temporal call may take before the check fails: a health check must not hang. */
const CALL_DEADLINE_MS = 5000;

export async function healthCheckCommand(
  global: GlobalOptions,
  io: Io,
  format: 'text' | 'json',
): Promise<number> {
  const checks: Check[] = [];
  let ctx: Context | undefined;
  try {
    try {
      ctx = await createContext(global, io);
      checks.push({ name: 'config', status: 'ok', message: describeConfig(ctx.config) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      checks.push({ name: 'config', status: 'fail', message: err.message });
    }
    if (ctx === undefined) {
      for (const name of [
        'temporal',
        'namespace',
        'search-attributes',
        'worker',
        'proxmox',
        'privileges',
        'manager',
      ])
        checks.push({ name, status: 'skipped', message: 'the config is not valid' });
    } else {
      const [temporal, proxmox] = await Promise.all([temporalChecks(ctx), proxmoxChecks(ctx)]);
      checks.push(...temporal.slice(0, 4), ...proxmox, ...temporal.slice(4));
    }
  } finally {
    await ctx?.close().catch(() => undefined);
  }
  // Skipped checks follow from another one's failure (which fails the whole), or do not apply.
  const healthy = checks.every((c) => c.status !== 'fail');
  if (format === 'json') printJson(io, { healthy, checks });
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) line(io.stdout, `${c.status.padEnd(7)} ${c.name.padEnd(width)}  ${c.message}`);
    line(io.stdout, healthy ? 'healthy' : 'unhealthy');
  }
  return healthy ? 0 : 1;
}

function describeConfig(config: Config): string {
  const enabled = ruleNames.filter((r) => ruleConfigsOf(config)[r].enabled);
  return `cluster ${config.cluster.name}, rules ${enabled.join(', ') || 'none'}`;
}

/** temporal, namespace, search-attributes, worker, then manager (printed last). */
async function temporalChecks(ctx: Context): Promise<Check[]> {
  const { address, namespace, taskQueue } = ctx.config.temporal;
  let client: Client;
  try {
    client = await ctx.temporal();
  } catch (err) {
    const why = err instanceof CliError ? err.message : String(err);
    return [
      { name: 'temporal', status: 'fail', message: why },
      ...['namespace', 'search-attributes', 'worker', 'manager'].map((name) => ({
        name,
        status: 'skipped' as const,
        message: 'Temporal is unreachable',
      })),
    ];
  }
  const call = <T>(fn: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + CALL_DEADLINE_MS, fn);
  const checks: Check[] = [{ name: 'temporal', status: 'ok', message: `reachable at ${address}` }];

  checks.push(
    await attempt('namespace', async () => {
      const ns = await call(() => client.workflowService.describeNamespace({ namespace }));
      return `${namespace} (${ns.namespaceInfo?.state === 1 ? 'registered' : 'state ' + String(ns.namespaceInfo?.state)})`;
    }),
  );
  checks.push(
    await attempt('search-attributes', async () => {
      const listed = await call(() => client.connection.operatorService.listSearchAttributes({ namespace }));
      const known = new Set(Object.keys(listed.customAttributes ?? {}));
      const missing = allSearchAttributes.filter((k) => !known.has(k.name)).map((k) => k.name);
      if (missing.length > 0)
        throw new Error(`missing ${missing.join(', ')}: register them (README, "The worker")`);
      return allSearchAttributes.map((k) => k.name).join(', ');
    }),
  );
  checks.push(
    await attempt('worker', async () => {
      const pollers = await Promise.all(
        [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY].map(async (type) => {
          const d = await call(() =>
            client.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              taskQueueType: type,
            }),
          );
          return d.pollers ?? [];
        }),
      );
      const [workflow = [], activity = []] = pollers;
      if (workflow.length === 0 || activity.length === 0) {
        throw new Error(
          `no worker polls task queue ${taskQueue} (${workflow.length} workflow, ${activity.length} activity pollers): ` +
            'start one with npm run worker',
        );
      }
      const identities = [...new Set(workflow.map((p) => p.identity ?? '?'))];
      return `${identities.length} worker(s) poll ${taskQueue}: ${identities.join(', ')}`;
    }),
  );
  checks.push(await managerCheck(ctx, client, call));
  return checks;
}

/**
 * A manager never started, or stopped by an operator, is not a fault of this deployment (a worker
 * may run before anyone starts one): skipped. One that runs must be cycling; one that failed,
 * was terminated or timed out is a failure.
 */
async function managerCheck(
  ctx: Context,
  client: Client,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<Check> {
  const id = clusterManagerWorkflowId(ctx.cluster);
  let status: string;
  try {
    status = (await call(() => client.workflow.getHandle(id).describe())).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      return {
        name: 'manager',
        status: 'skipped',
        message: `${id} was never started (pve-autopilot manager start)`,
      };
    return { name: 'manager', status: 'fail', message: err instanceof Error ? err.message : String(err) };
  }
  if (status === 'COMPLETED')
    return { name: 'manager', status: 'skipped', message: `${id} was stopped (pve-autopilot manager start)` };
  return attempt('manager', () => managerCycling(ctx, client, call, id, status));
}

async function managerCycling(
  ctx: Context,
  client: Client,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
  id: string,
  status: string,
): Promise<string> {
  const handle = client.workflow.getHandle(id);
  if (status !== 'RUNNING') throw new Error(`${id} is not running (${status.toLowerCase()})`);
  const state = await call(() => handle.query(managerStatusQuery));
  if (state.runState === 'paused') return `${id} is paused (an operator's choice): no cycles until resumed`;
  const cycleMs = ctx.config.manager.cycleSeconds * 1000;
  // Three cycles without an observation: one may be slow (a large cluster), three is a stall.
  const staleAfterMs = Math.max(3 * cycleMs, 30_000);
  const at = state.lastObservation?.at;
  if (at === undefined) throw new Error(`${id} runs but has not completed a cycle yet`);
  const age = Date.now() - at;
  if (age > staleAfterMs)
    throw new Error(
      `${id}'s last cycle ended ${Math.round(age / 1000)} s ago (cycle ${ctx.config.manager.cycleSeconds} s)`,
    );
  return `${id} cycling: cycle ${state.cycle}, last observation ${Math.round(age / 1000)} s ago`;
}

/** proxmox (reachable with the credentials), then privileges (what the enabled rules need). */
async function proxmoxChecks(ctx: Context): Promise<Check[]> {
  let endpoint: string;
  let granted: Record<string, Record<string, number>>;
  try {
    await observe(ctx);
    const pve = ctx.pve();
    endpoint = pve.describe();
    granted = await pve.permissions();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [
      { name: 'proxmox', status: 'fail', message },
      { name: 'privileges', status: 'skipped', message: 'the Proxmox VE API is not usable' },
    ];
  }
  const proxmox: Check = { name: 'proxmox', status: 'ok', message: `reachable: ${endpoint}` };
  const wanted = await neededPrivileges(ctx);
  const lacking = missingPrivileges(wanted, granted, ctx.config);
  if (lacking.length > 0) {
    return [
      proxmox,
      {
        name: 'privileges',
        status: 'fail',
        message: `the credentials lack ${lacking.map((l) => `${l.privilege} on ${l.path} (${l.for})`).join(', ')}`,
      },
    ];
  }
  const all = [...new Set(wanted.map((w) => w.privilege))].sort();
  return [proxmox, { name: 'privileges', status: 'ok', message: `has ${all.join(', ')}` }];
}

export interface Need {
  privilege: string;
  /** Where PVE checks it: vms (the containers, or their pool), nodes, storage. */
  on: 'vms' | 'nodes' | 'storage';
  /** Why it is needed, for the message: "lab: migrate". */
  for: string;
}

/** What each saga asks of PVE (from the API schema's permission checks of the calls it makes). */
const sagaPrivileges: Record<string, ReadonlyArray<Pick<Need, 'privilege' | 'on'>>> = {
  migrate: [
    { privilege: 'VM.Migrate', on: 'vms' },
    { privilege: 'VM.PowerMgmt', on: 'vms' },
  ],
  'drop-stop': [{ privilege: 'VM.PowerMgmt', on: 'vms' }],
  'drop-destroy': [
    { privilege: 'VM.PowerMgmt', on: 'vms' },
    { privilege: 'VM.Allocate', on: 'vms' },
  ],
  scale: [
    { privilege: 'VM.Config.CPU', on: 'vms' },
    { privilege: 'VM.Config.Memory', on: 'vms' },
  ],
  provision: [
    { privilege: 'VM.Allocate', on: 'vms' },
    { privilege: 'VM.PowerMgmt', on: 'vms' },
    { privilege: 'Datastore.AllocateSpace', on: 'storage' },
  ],
};

/** The sagas each rule may start; a rule not listed here moves containers (spread, affinity, balance). */
function sagasOfRule(rule: string, config: Config): string[] {
  if (rule === 'lab') return ['migrate', `drop-${config.lab.dropMode}`];
  if (rule === 'autoscale') return ['scale'];
  // The affinity rule has nothing to repair without rules, so it needs no privilege then.
  if (rule === 'affinity' && config.affinity.rules.length === 0) return [];
  return ['migrate'];
}

/**
 * Reading the cluster needs VM.Audit and Sys.Audit; every enabled rule whose automation is not off
 * adds what its sagas need, and a running generator what a provision needs.
 */
export function privilegesFor(config: Config, generatorRunning: boolean): Need[] {
  const needs: Need[] = [
    { privilege: 'VM.Audit', on: 'vms', for: 'observe' },
    { privilege: 'Sys.Audit', on: 'nodes', for: 'observe' },
  ];
  const rules = ruleConfigsOf(config);
  if (config.manager.automation !== 'off') {
    for (const name of ruleNames) {
      const rule = rules[name];
      if (!rule.enabled || rule.automation === 'off') continue;
      for (const saga of sagasOfRule(name, config))
        for (const p of sagaPrivileges[saga] ?? []) needs.push({ ...p, for: `${name}: ${saga}` });
    }
  }
  if (generatorRunning)
    for (const p of sagaPrivileges.provision ?? []) needs.push({ ...p, for: 'generator: provision' });
  return needs;
}

async function neededPrivileges(ctx: Context): Promise<Need[]> {
  let generatorRunning = false;
  try {
    const client = await ctx.temporal();
    const d = await client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(generatorWorkflowId(ctx.cluster)).describe(),
    );
    generatorRunning = d.status.name === 'RUNNING';
  } catch {
    // Temporal's own check reports why; without it, the rules alone say what is needed.
  }
  return privilegesFor(ctx.config, generatorRunning);
}

/**
 * The needs the grant does not cover. PVE checks /vms/<vmid> (or the container's pool) and
 * /storage/<id>: a privilege on an ancestor path with propagate counts, as PVE's ACLs do.
 */
export function missingPrivileges(
  needs: readonly Need[],
  granted: Readonly<Record<string, Readonly<Record<string, number>>>>,
  config: Config,
): Array<Need & { path: string }> {
  const pool = managedScopeOf(config).pool;
  const pathsOf: Record<Need['on'], string[]> = {
    vms: ['/vms', ...(pool === undefined ? [] : [`/pool/${pool}`])],
    nodes: ['/nodes'],
    storage: [`/storage/${config.container.storage}`],
  };
  const holds = (path: string, privilege: string): boolean => {
    for (let p = path; ; p = p.slice(0, p.lastIndexOf('/')) || '/') {
      const at = granted[p];
      if (at !== undefined && privilege in at) return p === path || at[privilege] === 1;
      if (p === '/') return false;
    }
  };
  const missing: Array<Need & { path: string }> = [];
  const seen = new Set<string>();
  for (const need of needs) {
    const paths = pathsOf[need.on];
    if (paths.some((path) => holds(path, need.privilege))) continue;
    const key = `${need.privilege} ${need.on}`;
    if (seen.has(key)) continue;
    seen.add(key);
    missing.push({ ...need, path: paths[0] ?? '/' });
  }
  return missing;
}

async function attempt(name: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { name, status: 'ok', message: await run() };
  } catch (err) {
    return { name, status: 'fail', message: err instanceof Error ? err.message : String(err) };
  }
}
