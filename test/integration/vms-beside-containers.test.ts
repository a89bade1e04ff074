// QEMU VMs beside the containers (zones-6node, fleet-large): `pve-autopilot status`, `plan` and the
// cluster manager (real Temporal dev server, real activities) never list or act on a VM, and the node load
// they read includes the VMs' memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createProxmoxActivities } from '../../activities/proxmox';
import type { ClusterSnapshot, ManagedScope } from '../../src/domain';
import type { CoreSettings } from '../../src/policy';
import type { ClusterResource } from '../../src/proxmox';
import type { clusterManagerWorkflow } from '../../workflows/cluster-manager';
import {
  clusterManagerWorkflowId,
  lastSnapshotQuery,
  managerStatusQuery,
  type ManagerState,
} from '../../workflows/messages';
import { cliWorld } from '../e2e/support/cli';
import { waitFor } from '../support/manual-clock';
import { startTestSim, type TestSim } from '../support/sim';
import { connectTestEnv, createTestWorker, uniqueTaskQueue } from '../support/temporal';

const GiB = 1024 ** 3;
/** pve-sim's host overhead per node (simulator/README.md): 1.5 GiB plus 2 % of its memory. */
const overhead = (maxmem: number): number => 1.5 * GiB + 0.02 * maxmem;

const SCENARIOS = [
  // Thresholds some node passes while another is under them, so the manager has work to do.
  {
    scenario: 'zones-6node',
    scope: { vmidMin: 1000, vmidMax: 1999 },
    vms: [400, 401, 402],
    migratePercent: 5,
  },
  {
    scenario: 'fleet-large',
    scope: { vmidMin: 10000, vmidMax: 19999 },
    vms: Array.from({ length: 20 }, (_, i) => 9000 + i),
    migratePercent: 50,
  },
] as const;

/** The memory of running VMs per node, from the raw API answer. */
function vmMemByNode(resources: readonly ClusterResource[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of resources)
    if (r.type === 'qemu' && r.status === 'running' && r.node)
      out.set(r.node, (out.get(r.node) ?? 0) + (r.mem ?? 0));
  return out;
}

describe.each(SCENARIOS)('$scenario with VMs', ({ scenario, scope, vms, migratePercent }) => {
  let env: TestWorkflowEnvironment;
  let sim: TestSim;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  beforeAll(async () => {
    env = await connectTestEnv();
    sim = await startTestSim({ scenario, clock: { mode: 'manual' } });
    taskQueue = uniqueTaskQueue('vms');
    const activities = createProxmoxActivities({
      pve: sim.pve,
      scope: scope as ManagedScope,
      taskPollMs: 100,
      vmidQuarantineMinutes: 10,
    });
    worker = await createTestWorker(env, { taskQueue, activities });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await sim?.stop();
    await env?.teardown();
  });

  it('status lists no VM among the containers, and its node memory includes the VMs', async () => {
    const w = await cliWorld(
      sim.sim,
      taskQueue,
      `scope:\n  vmidMin: ${scope.vmidMin}\n  vmidMax: ${scope.vmidMax}\n`,
    );
    const run = await w.cli(['status', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      nodes: Array<{ name: string; memPercent: number; containers: number }>;
      containers: Array<{ vmid: number }>;
    };
    expect(out.containers.some((c) => (vms as readonly number[]).includes(c.vmid))).toBe(false);
    const resources = await sim.pve.clusterResources();
    const byVm = vmMemByNode(resources);
    expect(byVm.size).toBeGreaterThan(0);
    for (const [name, vmMem] of byVm) {
      const node = resources.find((r) => r.type === 'node' && r.node === name)!;
      const maxmem = node.maxmem!;
      const cts = resources.filter((r) => r.type === 'lxc' && r.node === name);
      const ctMem = cts.reduce((s, c) => s + (c.mem ?? 0), 0);
      const shown = out.nodes.find((n) => n.name === name)!;
      // The clock is manual, so status saw exactly these figures: host, containers and VMs.
      expect(shown.memPercent, name).toBeCloseTo(((overhead(maxmem) + ctMem + vmMem) * 100) / maxmem, 0);
      expect(shown.memPercent - ((overhead(maxmem) + ctMem) * 100) / maxmem, name).toBeGreaterThan(
        ((vmMem * 100) / maxmem) * 0.9,
      );
      expect(shown.containers, name).toBe(cts.length);
    }
  });

  it('plan --json lists actions on containers only, none on a VM', async () => {
    const w = await cliWorld(
      sim.sim,
      taskQueue,
      `scope:\n  vmidMin: ${scope.vmidMin}\n  vmidMax: ${scope.vmidMax}\n` +
        `lab:\n  migratePercent: ${migratePercent}\n  dropPercent: 100\n`,
    );
    const run = await w.cli(['plan', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { actions: Array<{ action: { vmid?: number } }> };
    // The same thresholds give the manager work below, so an empty plan would prove nothing.
    expect(out.actions.length).toBeGreaterThan(0);
    const vmids = out.actions.flatMap((a) => (a.action.vmid === undefined ? [] : [a.action.vmid]));
    expect(vmids.filter((v) => (vms as readonly number[]).includes(v))).toEqual([]);
  });

  it('the manager acts on containers only, on node figures that include the VMs', async () => {
    const settings: CoreSettings = {
      scope: scope as ManagedScope,
      capacityBasis: 'allocated',
      admissionShare: 0.9,
      cpuShare: 0.9,
      maxConcurrent: 2,
      maxPerNode: 2,
      maxPerKind: {},
      cooldownMs: 60_000,
      drainedNodes: [],
    };
    const rules = { lab: { migratePercent, dropPercent: 100, migrateChoice: 'best-fit', dropMode: 'stop' } };
    const cluster = `vms-${scenario}-${Date.now() % 100_000}`;
    const handle: WorkflowHandle<typeof clusterManagerWorkflow> = await env.client.workflow.start(
      'clusterManagerWorkflow',
      {
        taskQueue,
        workflowId: clusterManagerWorkflowId(cluster),
        args: [{ cluster, settings, rules, automation: 'auto', cycleSeconds: 1, seed: 3 }],
      },
    );
    try {
      const state = await waitFor(
        'a decision',
        async () => {
          await sim.admin('POST', '/_sim/clock/advance', { seconds: 2 });
          const st: ManagerState = await handle.query(managerStatusQuery);
          return st.core.decisions.length > 0 ? st : undefined;
        },
        90_000,
      );
      expect(
        state.core.decisions
          .flatMap((d) => ('vmid' in d.action ? [d.action.vmid] : []))
          .filter((v) => (vms as readonly number[]).includes(v)),
      ).toEqual([]);
      const snapshot = (await handle.query(lastSnapshotQuery)) as ClusterSnapshot;
      expect(snapshot.containers.some((c) => (vms as readonly number[]).includes(c.vmid))).toBe(false);
      // The snapshot's node memory is more than its containers and the host: the VMs are in it.
      const vmNodes = [...vmMemByNode(await sim.pve.clusterResources())].map(([n]) => n);
      for (const name of vmNodes) {
        const node = snapshot.nodes.find((n) => n.name === name)!;
        const ctMem = snapshot.containers
          .filter((c) => c.node === name && c.status === 'running')
          .reduce((s, c) => s + c.mem, 0);
        expect(node.mem - ctMem - overhead(node.maxmem), name).toBeGreaterThan(2 * GiB);
      }
      // Nothing was ever asked of a VM: no VM task exists, and no request went to a qemu path.
      const state2 = await sim.admin<{ tasks: Array<{ id: string }> }>('GET', '/_sim/state');
      expect(state2.tasks.filter((t) => (vms as readonly number[]).includes(Number(t.id)))).toEqual([]);
      const counters = await sim.admin<Record<string, number>>('GET', '/_sim/counters');
      expect(Object.keys(counters).filter((k) => k.includes('/qemu'))).toEqual([]);
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });
});
