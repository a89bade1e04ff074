// One test file's world for saga tests: pve-sim, the shared Temporal server, and a worker on its
// own task queue running the real Proxmox activities against the sim.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { createProxmoxActivities } from '../../activities/proxmox';
import { SagaFailureType, sagaProgressQuery } from '../../workflows/sagas/saga';
import { refusalMessage, type ManagedScope, type OperationResult } from '../../src/domain';
import type { CoreSettings } from '../../src/policy';
import { PveError } from '../../src/proxmox';
import { connectTestEnv, createTestWorker, uniqueTaskQueue } from './temporal';
import { startTestSim, type TestSim } from './sim';
import type { SimOptions } from '../../simulator/index';

export const labScope: ManagedScope = { vmidMin: 1400, vmidMax: 1499 };

/** The manager's settings for the lab's scope: two migrations at once, two per node, no node drained. */
export const labSettings: CoreSettings = {
  scope: labScope,
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 2,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

export interface SagaEnv {
  env: TestWorkflowEnvironment;
  sim: TestSim;
  taskQueue: string;
  worker: Worker;
  /** Awaits `fn` while the worker runs; fails fast if the worker died. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Starts a saga on this env's task queue under a fresh id; the worker manages the lab's scope. */
  startSaga<W extends Workflow>(
    workflowType: string,
    input: Omit<Parameters<W>[0], 'scope'>,
  ): Promise<WorkflowHandle<W>>;
  teardown(): Promise<void>;
}

/** `scope`: the worker's managed scope when the scenario's is not the lab's (zones-6node: 1000-1999). */
export async function startSagaEnv(
  simOptions: Partial<SimOptions> = {},
  opts: { scope?: ManagedScope } = {},
): Promise<SagaEnv> {
  const env = await connectTestEnv();
  const sim = await startTestSim(simOptions);
  const taskQueue = uniqueTaskQueue('saga');
  const activities = createProxmoxActivities({
    pve: sim.pve,
    scope: opts.scope ?? labScope,
    vmidQuarantineMinutes: 10,
    // pve-sim runs tasks 20 times faster than PVE: a short wait between polls keeps tests quick.
    taskPollMs: 100,
    taskPollMaxMs: 1000,
  });
  const worker = await createTestWorker(env, { taskQueue, activities });
  // One worker for the whole file: a Worker runs once, and restarting it per test costs seconds.
  const running = worker.run();
  const died = running.then(() => {
    throw new Error('the test worker stopped');
  });
  died.catch(() => undefined); // observed through run(); unobserved after teardown

  let started = 0;
  return {
    env,
    sim,
    taskQueue,
    worker,
    run: (fn) => Promise.race([fn(), died]),
    startSaga: <W extends Workflow>(workflowType: string, input: Omit<Parameters<W>[0], 'scope'>) =>
      env.client.workflow.start<W>(workflowType, {
        taskQueue,
        workflowId: `${workflowType}-${taskQueue}-${started++}`,
        args: [input],
        // WorkflowStartOptions<W> is a conditional type TypeScript cannot resolve for a generic W.
      } as unknown as WorkflowStartOptions<W>),
    teardown: async () => {
      worker.shutdown();
      await running.catch(() => undefined);
      await sim.stop();
      await env.teardown();
    },
  };
}

/**
 * The saga's failure type and message when it failed, or its result when it succeeded. A refused
 * saga completes, with a `refused` result: it reads as the Refused failure the CLI and the parents
 * make of it (migrate.test checks the run itself).
 */
export async function outcomeOf(
  handle: WorkflowHandle,
): Promise<
  | { ok: true; type: 'succeeded'; result: OperationResult }
  | { ok: false; type: string; message: string; result?: OperationResult }
> {
  try {
    const result = (await handle.result()) as OperationResult;
    if (result.outcome === 'refused') {
      return { ok: false, type: SagaFailureType.refused, message: refusalMessage(result), result };
    }
    return { ok: true, type: 'succeeded', result };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause as { type?: string; message?: string } | undefined;
    return { ok: false, type: cause?.type ?? 'unknown', message: cause?.message ?? String(err) };
  }
}

export interface CtView {
  node: string;
  status: string;
  cores: number;
  memory: number;
  swap: number;
}

/**
 * The container as pve-sim has it, read through the public API. A CT destroyed or moved between the
 * listing and the config read is listed again: a test polling for a destroy sees it gone, not an error.
 */
export async function ctView(sim: TestSim, vmid: number): Promise<CtView | null> {
  for (let attempt = 1; ; attempt++) {
    const guest = (await sim.pve.clusterResources('vm')).find((g) => g.vmid === vmid);
    if (!guest?.node) return null;
    const config = await sim.pve.containerConfig(guest.node, vmid).catch((err: unknown) => {
      if (attempt < 5 && err instanceof PveError && err.kind === 'not-found') return null;
      throw err;
    });
    if (!config) continue;
    return {
      node: guest.node,
      status: guest.status ?? '',
      cores: config.cores ?? 0,
      memory: config.memory ?? 0,
      swap: config.swap ?? 0,
    };
  }
}

/**
 * Waits until the saga has logged `step`. Throws when the run ended (or `timeoutMs` passed) before
 * it got there: a test that means to act at a step must not go on quietly after it.
 */
export async function waitForStep(handle: WorkflowHandle, step: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // A query can fail while a killed worker's replacement picks the workflow up.
    const progress = await handle.query(sagaProgressQuery).catch(() => null);
    if (progress?.steps.includes(step)) return;
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      throw new Error(
        `saga ended (${status.name}) before step ${step}; steps: ${progress?.steps.join(', ') ?? '?'}`,
      );
    }
    if (Date.now() > until) throw new Error(`saga never reached step ${step}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The outcome search attributes a finished saga set: what the documented Web UI filters find. */
export async function outcomeAttributes(
  handle: WorkflowHandle,
): Promise<{ status: string; outcome: string | undefined; needsAttention: boolean }> {
  const d = await handle.describe();
  const attrs = d.searchAttributes as Record<string, unknown[] | undefined>;
  return {
    status: d.status.name,
    outcome: attrs.PveOutcome?.[0] as string | undefined,
    needsAttention: attrs.PveNeedsAttention?.[0] === true,
  };
}
