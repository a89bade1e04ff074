// Autoscaling on the real dev server and pve-sim: a container pinned at high CPU gets a core within
// evaluationPeriods + 1 cycles, and gives it back once the load is gone and the cooldown passed;
// no node passes hostMaxMemoryPercent meanwhile.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { CoreSettings, Decision } from '../../src/policy';
import type { clusterManagerWorkflow } from '../../workflows/cluster-manager';
import {
  clusterManagerWorkflowId,
  managerStatusQuery,
  stopManagerUpdate,
  type ManagerState,
} from '../../workflows/messages';
import { labScope, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { runTask, startBackgroundClock, waitFor, type BackgroundClock } from '../support/manual-clock';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const PX1 = 'srv-px1';
const VMID = 1420;
const EVALUATION_PERIODS = 3;
const HOST_MAX_MEMORY_PERCENT = 95;

const settings: CoreSettings = {
  scope: labScope,
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 2,
  maxPerNode: 2,
  maxPerKind: { scale: 2 },
  // Real seconds of the manager's own cooldown after an operation; the rule's is cooldownSeconds.
  cooldownMs: 2_000,
  drainedNodes: [],
};
const rules = {
  lab: { enabled: false },
  autoscale: {
    enabled: true,
    evaluationPeriods: EVALUATION_PERIODS,
    cooldownSeconds: 5,
    minCores: 1,
    maxCores: 2,
    // 1024 MiB stays put: this test is about cores.
    minMemoryMiB: 1024,
    hostMaxMemoryPercent: HOST_MAX_MEMORY_PERCENT,
  },
};

let s: SagaEnv;
let clock: BackgroundClock;
const started: WorkflowHandle[] = [];
beforeAll(async () => {
  s = await startSagaEnv({ clock: { mode: 'manual' } });
  clock = startBackgroundClock(s.sim);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.terminate('test over').catch(() => undefined)));
});
afterAll(async () => {
  await clock?.stop();
  await s?.teardown();
});

/** Highest node memory use seen while polling, in percent. */
let peakNodeMemoryPercent = 0;
async function sampleNodes(): Promise<void> {
  for (const n of await s.sim.pve.clusterResources('node')) {
    if (n.maxmem) peakNodeMemoryPercent = Math.max(peakNodeMemoryPercent, ((n.mem ?? 0) * 100) / n.maxmem);
  }
}

async function untilDecision(
  handle: WorkflowHandle,
  what: string,
  ok: (d: Decision) => boolean,
): Promise<{ decision: Decision; state: ManagerState }> {
  return waitFor(
    what,
    async () => {
      await sampleNodes();
      const state = await handle.query(managerStatusQuery);
      const decision = state.core.decisions.find((d) => ok(d) && d.status === 'succeeded');
      return decision ? { decision, state } : undefined;
    },
    90_000,
  );
}

async function cores(): Promise<number> {
  return Number((await s.sim.pve.containerConfig(PX1, VMID)).cores);
}

describe('autoscaling in the cluster manager', () => {
  it('adds a core to a container pinned at high CPU, and takes it back once the load is gone', async () => {
    for (const g of await s.sim.pve.clusterResources('vm')) {
      if (g.vmid === undefined || g.vmid < labScope.vmidMin || g.vmid > labScope.vmidMax) continue;
      const node = g.node ?? '';
      if (g.status === 'running') await runTask(s.sim.pve, node, s.sim.pve.stopContainer(node, g.vmid));
      await runTask(s.sim.pve, node, s.sim.pve.destroyContainer(node, g.vmid, { purge: true }));
    }
    await runTask(
      s.sim.pve,
      PX1,
      s.sim.pve.createContainer(PX1, {
        vmid: VMID,
        ostemplate: TEMPLATE,
        hostname: `t-${VMID}`,
        memory: 1024,
        swap: 0,
        cores: 1,
        rootfs: 'local-lvm:1',
      }),
    );
    await runTask(s.sim.pve, PX1, s.sim.pve.startContainer(PX1, VMID));
    await s.sim.admin('PUT', `/_sim/containers/${VMID}/usage`, { cpu: 0.05, memMiB: 500 });
    // The manager leaves a container alone for a while after it starts.
    await s.sim.admin('POST', '/_sim/clock/advance', { seconds: 61 });

    const cluster = `as-${Date.now() % 100_000}`;
    const handle = await s.env.client.workflow.start<typeof clusterManagerWorkflow>(
      'clusterManagerWorkflow',
      {
        taskQueue: s.taskQueue,
        workflowId: clusterManagerWorkflowId(cluster),
        args: [{ cluster, settings, rules, automation: 'auto', cycleSeconds: 1, seed: 7 }],
      },
    );
    started.push(handle);
    await waitFor('two quiet cycles', async () => {
      const st = await handle.query(managerStatusQuery);
      return st.cycle >= 2 ? st : undefined;
    });

    // Pinned hot: 95 % of its one core.
    await s.sim.admin('PUT', `/_sim/containers/${VMID}/usage`, { cpu: 0.95 });
    const pinnedAt = (await handle.query(managerStatusQuery)).cycle;
    const up = await untilDecision(
      handle,
      'a scale-up',
      (d) => d.action.kind === 'scale' && d.action.cores === 2,
    );
    expect(up.decision.rule).toBe('autoscale');
    expect(up.decision.action.reason).toMatch(/^CPU (9\d|100) % avg of 3 cycles ≥ 80 %: 1 → 2 cores$/);
    expect(up.decision.cycle).toBeLessThanOrEqual(pinnedAt + EVALUATION_PERIODS + 1);
    expect(await cores()).toBe(2);

    // The load goes; after the cooldown and a quiet window the core goes back.
    await s.sim.admin('PUT', `/_sim/containers/${VMID}/usage`, { cpu: 0.05 });
    const down = await untilDecision(
      handle,
      'a scale-down',
      (d) => d.action.kind === 'scale' && d.action.cores === 1,
    );
    expect(down.decision.action.reason).toMatch(
      /^CPU \d % avg of 3 cycles and \d % now < 30 %: 2 → 1 cores$/,
    );
    // Not before the rule's 5 s cooldown from the first change.
    expect(down.decision.at - up.decision.at).toBeGreaterThanOrEqual(5_000);
    expect(await cores()).toBe(1);
    expect(down.state.core.decisions.filter((d) => d.action.kind === 'scale')).toHaveLength(2);

    await sampleNodes();
    expect(peakNodeMemoryPercent).toBeGreaterThan(0);
    expect(peakNodeMemoryPercent).toBeLessThanOrEqual(HOST_MAX_MEMORY_PERCENT);

    await handle.executeUpdate(stopManagerUpdate);
    expect((await s.run(() => handle.result())).runState).toBe('stopped');
  });
});
