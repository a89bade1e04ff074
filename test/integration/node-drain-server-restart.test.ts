// The Temporal server crashes (SIGKILL) in the middle of a drain and starts again on the same
// database file and port: the drain, its migrate sagas and the cluster manager pick up where they
// were. Every managed container leaves the node exactly once (one vzmigrate each, none lost or
// doubled in pve-sim), no saga needs attention, and nothing lands on the node while it is drained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import {
  clusterManagerWorkflowId,
  managerStatusQuery,
  nodeDrainWorkflowId,
  type ManagerInput,
  type ManagerState,
} from '../../workflows/messages';
import {
  nodeDrainStatusQuery,
  undrainNodeUpdate,
  type NodeDrainInput,
  type NodeDrainState,
} from '../../workflows/node-drain-messages';
import { expectReplays, uniqueTaskQueue } from '../support/temporal';
import { startTestSim, vzmigrates, type TestSim } from '../support/sim';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { labScope, labSettings } from '../support/saga-env';
import { runTask, sleep, waitFor } from '../support/manual-clock';
import { startRestartableDevServer, type RestartableDevServer } from '../support/restartable-dev-server';

const PX1 = 'srv-px1';
const PX2 = 'srv-px2';
/** Added on srv-px1 beside the scenario's 1400 and 1401, so the drain has six to move. */
const ADDED = [1410, 1411, 1412, 1413];

let server: RestartableDevServer;
let sim: TestSim;
let worker: WorkerProcess | undefined;
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  server = await startRestartableDevServer();
  // A slow clock, so the crash lands while migrations are under way.
  sim = await startTestSim({ clock: { mode: 'realtime', speed: 2 } });
  await Promise.all(
    ADDED.map((vmid) =>
      runTask(
        sim.pve,
        PX1,
        sim.pve.createContainer(PX1, {
          vmid,
          ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
          hostname: `drain-${vmid}`,
          memory: 512,
          swap: 0,
          cores: 1,
          rootfs: 'local-lvm:1',
          net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
          unprivileged: true,
          start: true,
        }),
      ),
    ),
  );
});
afterAll(async () => {
  await Promise.all(started.map((h) => h.terminate('test over').catch(() => undefined)));
  await worker?.kill();
  await sim?.stop();
  await server?.teardown();
});

interface Guest {
  vmid: number;
  node: string;
  status: string;
}

async function guests(): Promise<Guest[]> {
  return (await sim.pve.clusterResources('vm'))
    .filter((g) => g.type === 'lxc')
    .map((g) => ({ vmid: g.vmid ?? 0, node: g.node ?? '', status: g.status ?? '' }));
}

const isManaged = (vmid: number) => vmid >= labScope.vmidMin && vmid <= labScope.vmidMax;

/** Reads pve-sim every 250 ms (it does not go through Temporal) and notes any guest arriving on `node`. */
function watchArrivals(node: string, before: Guest[]) {
  const there = new Set(before.filter((g) => g.node === node).map((g) => g.vmid));
  const arrivals = new Set<number>();
  let on = true;
  const done = (async () => {
    while (on) {
      for (const g of await guests().catch(() => []))
        if (g.node === node && !there.has(g.vmid)) arrivals.add(g.vmid);
      await sleep(250);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await done;
      return [...arrivals].sort();
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms: number) {
  return waitFor(
    what,
    async () => {
      // Queries fail while the server is down and while the worker finds it again.
      const v = await probe().catch(() => undefined);
      return v !== undefined && ok(v) ? v : undefined;
    },
    ms,
  );
}

describe('a drain survives a Temporal server restart', { timeout: 300_000 }, () => {
  it('the server is killed mid-evacuation and restarted on its database: the drain completes, every container once', async () => {
    const taskQueue = uniqueTaskQueue('drain-restart');
    const cluster = `drs-${taskQueue.slice(-8)}`;
    worker = startWorkerProcess({ sim: sim.sim, taskQueue, temporalAddress: server.address });
    await worker.ready;
    const before = await guests();
    const toMove = before.filter((g) => g.node === PX1 && isManaged(g.vmid)).map((g) => g.vmid);
    expect(toMove.sort()).toEqual([1400, 1401, ...ADDED]);

    // The lab rule at 10 %: srv-px1 holds 9.4 % in managed containers and srv-px2 3.1 %, so the
    // manager moves nothing before the drain; after it srv-px2 holds 12.5 % and would send one to
    // the empty srv-px1, were it not drained (the undrain at the end shows that it then does).
    const managerInput: ManagerInput = {
      cluster,
      settings: labSettings,
      rules: { lab: { migratePercent: 10, dropPercent: 90 } },
      automation: 'auto',
      cycleSeconds: 1,
      seed: 3,
    };
    const manager = await server.client.workflow.start('clusterManagerWorkflow', {
      taskQueue,
      workflowId: clusterManagerWorkflowId(cluster),
      args: [managerInput],
    });
    started.push(manager);
    const managerState = () => manager.query(managerStatusQuery) as Promise<ManagerState>;
    await until('the manager to cycle', managerState, (st) => st.cycle >= 1, 60_000);

    const watch = watchArrivals(PX1, before);
    const input: NodeDrainInput = { cluster, node: PX1, parallel: 2, settings: labSettings };
    const drain = await server.client.workflow.start('nodeDrainWorkflow', {
      taskQueue,
      workflowId: nodeDrainWorkflowId(cluster, PX1),
      args: [input],
    });
    started.push(drain);
    const drainState = () => drain.query(nodeDrainStatusQuery) as Promise<NodeDrainState>;

    // Mid-drain: one move done, two under way, the rest still to go.
    const during = await until(
      'two migrations in flight after one finished',
      drainState,
      (st) => st.moved.length >= 1 && st.inFlight.length === 2,
      120_000,
    );
    expect(during.moved.length).toBeLessThan(toMove.length - 2);
    await server.stop('SIGKILL');
    await sleep(3000);
    await server.start();

    const drained = await until(
      'the drain to finish after the restart',
      drainState,
      (st) => st.phase === 'drained',
      180_000,
    );
    expect(drained.failures).toEqual([]);
    expect(drained.moved.map((m) => m.vmid).sort()).toEqual([...toMove].sort());
    expect(drained.moved.every((m) => m.to === PX2)).toBe(true);

    // pve-sim's own view: the same containers as before, each exactly once, none managed on srv-px1,
    // each moved by a single vzmigrate and running as before.
    const after = await guests();
    expect(after.map((g) => g.vmid).sort()).toEqual(before.map((g) => g.vmid).sort());
    expect(after.filter((g) => g.node === PX1 && isManaged(g.vmid))).toEqual([]);
    for (const vmid of toMove) {
      expect(await vzmigrates(sim, vmid), `vzmigrates of CT ${vmid}`).toBe(1);
      const wasRunning = before.find((g) => g.vmid === vmid)?.status;
      expect(after.find((g) => g.vmid === vmid)?.status, `status of CT ${vmid}`).toBe(wasRunning);
    }

    // Every migrate saga completed and succeeded; none ended needing attention.
    const sagas = await until(
      'the migrate sagas in visibility',
      async () => {
        const found = [];
        for await (const w of server.client.workflow.list({ query: `PveOperation = 'migrate'` }))
          found.push(w);
        return found;
      },
      (found) => found.length === toMove.length && found.every((w) => w.status.name === 'COMPLETED'),
      30_000,
    );
    for (const w of sagas) expect(w.searchAttributes.PveOutcome).toEqual(['succeeded']);
    const attention = [];
    for await (const w of server.client.workflow.list({ query: 'PveNeedsAttention = true' }))
      attention.push(w.workflowId);
    expect(attention).toEqual([]);

    // Still drained: the manager (which cycled on through the restart) holds srv-px1 closed, and
    // over some cycles with srv-px2 over its threshold nothing moves onto srv-px1.
    const cycleAtDrained = (await managerState()).cycle;
    const held = await until(
      'the manager to cycle on',
      managerState,
      (st) => st.cycle >= cycleAtDrained + 5,
      60_000,
    );
    expect(held.settings.drainedNodes).toEqual([PX1]);
    const movesToPx1 = held.core.decisions.filter(
      (d) => d.action.kind === 'migrate' && d.action.to === PX1 && d.at >= drained.startedAt,
    );
    expect(movesToPx1).toEqual([]);
    expect(await watch.stop()).toEqual([]);
    expect((await guests()).filter((g) => g.node === PX1 && isManaged(g.vmid))).toEqual([]);

    // Undrained, the manager does send srv-px2's surplus to srv-px1: the checks above could fail.
    const ended = await drain.executeUpdate(undrainNodeUpdate);
    expect(ended.phase).toBe('undrained');
    await until(
      'the manager to move a container onto srv-px1',
      guests,
      (gs) => gs.some((g) => g.node === PX1 && isManaged(g.vmid)),
      90_000,
    );
    await expectReplays(drain);
    expect(worker.child.exitCode).toBeNull();
  });
});
