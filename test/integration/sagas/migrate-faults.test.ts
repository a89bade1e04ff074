// The fault matrix of the migrate saga: a task failure, a persistent HTTP 500, and a node going
// offline at each step; every one ends with the container running on its source, config intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { migrateContainerWorkflow } from '../../../workflows/sagas/migrate';
import { sagaProgressQuery } from '../../../workflows/sagas/saga';
import { ctView, labScope, outcomeOf, startSagaEnv, type CtView, type SagaEnv } from '../../support/saga-env';

let s: SagaEnv;
let original: CtView | null;
const vmid = 1401;
const source = 'srv-px1';
const target = 'srv-px2';

beforeAll(async () => {
  s = await startSagaEnv();
  original = await ctView(s.sim, vmid);
});
afterAll(async () => {
  await s?.teardown();
});

async function waitForStep(handle: WorkflowHandle, step: string): Promise<void> {
  for (;;) {
    const progress = await handle.query(sagaProgressQuery);
    if (progress.steps.includes(step)) return;
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new Error(`saga ended (${status.name}) before step ${step}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Case {
  step: string;
  fault: string;
  inject?: () => Promise<unknown>;
  /** Runs while the saga is under way; for faults that must happen at a given step. */
  during?: (handle: WorkflowHandle) => Promise<unknown>;
}

const fault = (body: Record<string, unknown>) => () => s.sim.admin('POST', '/_sim/faults', body);

const cases: Case[] = [
  {
    step: 'shutdown',
    fault: 'task failure (shutdown and stop tasks fail)',
    inject: async () => {
      await fault({ taskType: 'vzshutdown', rate: 1 })();
      await fault({ taskType: 'vzstop', rate: 1 })();
    },
  },
  {
    step: 'shutdown',
    fault: 'HTTP 500',
    inject: fault({ method: 'POST', path: `/nodes/${source}/lxc/${vmid}/status/shutdown`, status: 500 }),
  },
  {
    step: 'shutdown',
    fault: 'target node offline',
    during: async (h) => {
      await waitForStep(h, 'shutdown');
      await s.sim.admin('POST', `/_sim/nodes/${target}/offline`);
    },
  },
  { step: 'migrate', fault: 'task failure', inject: fault({ taskType: 'vzmigrate', times: 1 }) },
  {
    step: 'migrate',
    fault: 'HTTP 500',
    inject: fault({ method: 'POST', path: `/nodes/${source}/lxc/${vmid}/migrate`, status: 500 }),
  },
  { step: 'start', fault: 'task failure', inject: fault({ taskType: 'vzstart', times: 1 }) },
  {
    step: 'start',
    fault: 'HTTP 500',
    inject: fault({ method: 'POST', path: `/nodes/${target}/lxc/${vmid}/status/start`, status: 500 }),
  },
  {
    // The start request is held 2 s so the node is down before it lands. The outage outlasts the
    // start step's retries (about 25 s): the saga gives up on the target, and compensation waits
    // for the node to answer again before moving the container back.
    step: 'start',
    fault: 'target node offline for 40 s',
    inject: fault({
      method: 'POST',
      path: `/nodes/${target}/lxc/${vmid}/status/start`,
      latencyMs: 2000,
      times: 1,
    }),
    during: async (h) => {
      await waitForStep(h, 'start');
      await s.sim.admin('POST', `/_sim/nodes/${target}/offline`);
      await new Promise((r) => setTimeout(r, 40_000));
      await s.sim.admin('POST', `/_sim/nodes/${target}/online`);
    },
  },
];

async function runCase(c: Case) {
  await c.inject?.();
  const handle = await s.env.client.workflow.start<typeof migrateContainerWorkflow>(
    'migrateContainerWorkflow',
    {
      taskQueue: s.taskQueue,
      workflowId: `faults-${vmid}-${c.step}-${c.fault.replace(/\W+/g, '-')}`,
      args: [{ vmid, target, scope: labScope }],
    },
  );
  try {
    const [outcome] = await s.run(() => Promise.all([outcomeOf(handle), c.during?.(handle)]));
    return outcome;
  } finally {
    // Even when a case fails, the next one starts without its faults.
    await s.sim.admin('DELETE', '/_sim/faults');
    await s.sim.admin('POST', `/_sim/nodes/${target}/online`);
  }
}

describe('migrate fault matrix: the container ends running on its source with its original config', () => {
  it.each(cases)('$step × $fault', async (c) => {
    expect(await runCase(c)).toMatchObject({ ok: false, type: 'RolledBack' });
    expect(await ctView(s.sim, vmid)).toEqual(original);
  });
});

describe('migrate rides out a short fault', () => {
  it('start × target node offline for 5 s: retries outlast it and the move completes', async () => {
    const outcome = await runCase({
      step: 'start',
      fault: 'target node offline for 5 s',
      during: async (h) => {
        await waitForStep(h, 'start');
        await s.sim.admin('POST', `/_sim/nodes/${target}/offline`);
        await new Promise((r) => setTimeout(r, 5_000));
        await s.sim.admin('POST', `/_sim/nodes/${target}/online`);
      },
    });
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'succeeded', node: target } });
    expect(await ctView(s.sim, vmid)).toEqual({ ...original, node: target });
  });
});
