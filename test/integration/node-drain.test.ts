// nodeDrainWorkflow on pve-sim (lab-2node, realtime clock at 20x) with the real Temporal dev server:
// it moves every managed container off srv-px1, leaves the unmanaged gateway, and tells a running
// manager and generator, which then place nothing on srv-px1 until it is undrained.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ContainerTemplate } from '../../src/domain';
import type { GeneratorPolicy } from '../../src/policy';
import {
  clusterManagerWorkflowId,
  generatorStatusQuery,
  generatorWorkflowId,
  managerStatusQuery,
  nodeDrainWorkflowId,
  pauseGeneratorUpdate,
  resumeGeneratorUpdate,
  type GeneratorState,
  type ManagerState,
} from '../../workflows/messages';
import {
  nodeDrainStatusQuery,
  undrainNodeUpdate,
  type NodeDrainInput,
  type NodeDrainState,
} from '../../workflows/node-drain-messages';
import { labScope, labSettings, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { expectReplays } from '../support/temporal';
import { sleep, waitFor } from '../support/manual-clock';

const PX1 = 'srv-px1';
const PX2 = 'srv-px2';

// Only srv-px1 is open to the generator: while it is drained, there is nowhere to create.
const generatorPolicy: GeneratorPolicy = {
  scope: labScope,
  capacityBasis: 'allocated',
  limitPercent: 50,
  nodeWeights: { [PX1]: 1 },
  memoryChoicesMiB: [256],
};

const container: ContainerTemplate = {
  template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  storage: 'local-lvm',
  diskGiB: 1,
  cores: 1,
  swapMiB: 0,
  net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
  hostnamePrefix: 'gen',
  unprivileged: true,
};

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
const started: WorkflowHandle[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.terminate('test over').catch(() => undefined)));
});
afterAll(async () => {
  await s?.teardown();
});

let clusters = 0;
function clusterName(): string {
  return `dr${++clusters}-${Date.now() % 100_000}`;
}

async function startDrain(overrides: Partial<NodeDrainInput> & { cluster: string }) {
  const input: NodeDrainInput = { node: PX1, parallel: 2, settings: labSettings, ...overrides };
  const handle = await s.env.client.workflow.start('nodeDrainWorkflow', {
    taskQueue: s.taskQueue,
    workflowId: nodeDrainWorkflowId(input.cluster, input.node),
    args: [input],
  });
  started.push(handle);
  return handle;
}

async function guestsOn(node: string) {
  const guests = await s.sim.pve.clusterResources('vm');
  return guests.filter((g) => g.type === 'lxc' && g.node === node).map((g) => g.vmid ?? 0);
}

const managed = (vmids: number[]) => vmids.filter((v) => v >= labScope.vmidMin && v <= labScope.vmidMax);

function drainState(handle: WorkflowHandle): Promise<NodeDrainState> {
  return handle.query(nodeDrainStatusQuery);
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000) {
  return waitFor(
    what,
    async () => {
      const v = await probe().catch(() => undefined);
      return v !== undefined && ok(v) ? v : undefined;
    },
    ms,
  );
}

describe('nodeDrainWorkflow', { timeout: 240_000 }, () => {
  it('never moves a container to another drained node, and waits while nothing can take it', async () => {
    const cluster = clusterName();
    // First, on the scenario as it starts: srv-px2 is drained with srv-px1 drained too, so nothing
    // may move; the drain says why and waits.
    const drain = await startDrain({ cluster, node: PX2, settings: { ...labSettings, drainedNodes: [PX1] } });
    const blocked = await s.run(() =>
      until(
        'the drain to be blocked',
        () => drainState(drain),
        (st) => st.phase === 'blocked',
      ),
    );
    expect(blocked.remaining.length).toBeGreaterThan(0);
    expect(blocked.blocked.every((b) => /srv-px1 is drained for maintenance/.test(b.why))).toBe(true);
    expect(blocked.moved).toEqual([]);
    expect(blocked.otherDrained).toEqual([PX1]);
    await drain.executeUpdate(undrainNodeUpdate);
    expect(((await drain.result()) as NodeDrainState).phase).toBe('undrained');
  });

  it('empties the node of managed containers, leaves the others, and the manager and generator put nothing there until undrained', async () => {
    const cluster = clusterName();
    // Lab rule at 5 %: once srv-px2 holds all four 512 MiB containers (6.3 %), it would move one back
    // to an empty srv-px1, were srv-px1 not drained.
    const manager = await s.env.client.workflow.start('clusterManagerWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: clusterManagerWorkflowId(cluster),
      args: [
        {
          cluster,
          settings: labSettings,
          rules: { lab: { migratePercent: 5, dropPercent: 90 } },
          automation: 'auto',
          cycleSeconds: 1,
          seed: 3,
        },
      ],
    });
    started.push(manager);
    const generator = await s.env.client.workflow.start('generatorWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: generatorWorkflowId(cluster),
      args: [
        {
          cluster,
          policy: generatorPolicy,
          arrival: { law: 'periodic', periodSeconds: 1 },
          container,
          backoffSeconds: 1,
          seed: 5,
          maxContainers: 6,
        },
      ],
    });
    started.push(generator);
    // Paused (which waits for a creation under way) before the drain begins, so no provision is
    // in flight across its start; it still receives the drain's signal while paused.
    await s.run(() => generator.executeUpdate(pauseGeneratorUpdate));

    const drain = await startDrain({ cluster });
    const drained = await s.run(() =>
      until(
        'the drain to finish',
        () => drainState(drain),
        (st) => st.phase === 'drained',
      ),
    );
    expect(managed(await guestsOn(PX1))).toEqual([]);
    expect(await guestsOn(PX1)).toContain(100);
    expect(drained.unmanaged).toEqual([{ vmid: 100, name: 'CT100' }]);
    expect(drained.moved.map((m) => m.vmid)).toEqual(expect.arrayContaining([1400, 1401]));
    expect(drained.moved.every((m) => m.to === PX2)).toBe(true);
    expect(drained.drainedAt).toBeGreaterThanOrEqual(drained.startedAt);

    // Both learnt it, and while it stays drained (some 200 simulated seconds) nothing lands there.
    const m1 = await until(
      'the manager to hold srv-px1 drained',
      () => manager.query(managerStatusQuery),
      (st: ManagerState) => st.settings.drainedNodes.includes(PX1),
    );
    expect(m1.settings.drainedNodes).toEqual([PX1]);
    const g1 = await until(
      'the generator to hold srv-px1 drained',
      () => generator.query(generatorStatusQuery),
      (st: GeneratorState) => (st.drainedNodes ?? []).includes(PX1),
    );
    await generator.executeUpdate(resumeGeneratorUpdate);
    await sleep(10_000);
    expect(managed(await guestsOn(PX1))).toEqual([]);
    const m2 = await manager.query(managerStatusQuery);
    const movesToPx1 = m2.core.decisions.filter(
      (d) => d.action.kind === 'migrate' && d.action.to === PX1 && d.at >= drained.startedAt,
    );
    expect(movesToPx1).toEqual([]);
    const g2 = await generator.query(generatorStatusQuery);
    expect(g2.counters.skippedForCapacity).toBeGreaterThan(g1.counters.skippedForCapacity);
    expect(g2.recent.filter((c) => c.at > drained.drainedAt! && c.outcome === 'created')).toEqual([]);

    // Undrain: the drain ends, and both take srv-px1 again (the generator creates there at once).
    const state = await s.run(() => drain.executeUpdate(undrainNodeUpdate));
    expect(state.phase).toBe('undrained');
    expect(((await drain.result()) as NodeDrainState).phase).toBe('undrained');
    await until(
      'the manager to open srv-px1 again',
      () => manager.query(managerStatusQuery),
      (st: ManagerState) => st.settings.drainedNodes.length === 0,
    );
    await until(
      'a new container on srv-px1',
      () => guestsOn(PX1),
      (vmids) => managed(vmids).length > 0,
    );
    expect((await generator.query(generatorStatusQuery)).drainedNodes).toEqual([]);
    await expectReplays(drain, 'node-drain-with-manager-and-generator');
  });

  it('fails at once, naming the field, on a bad input', async () => {
    const drain = await startDrain({ cluster: clusterName(), parallel: 0 });
    const err = await drain.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(
      /^invalid input: parallel: expected an integer from 1/,
    );
  });
});
