// One operation per container, provisions included, and no reuse of a just-freed vmid: the
// generator allocates the vmid first and runs the provision under the container's own workflow id,
// so a migrate started on that vmid while it is being created is refused; and a vmid a destroy just
// freed is not handed to the next container.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { ContainerTemplate } from '../../src/domain';
import type { GeneratorPolicy } from '../../src/policy';
import { ContainerBusyError, InvalidOperationInputError, startOperation } from '../../src/temporal/starts';
import type { generatorWorkflow } from '../../workflows/generator';
import {
  generatorStatusQuery,
  generatorWorkflowId,
  pauseGeneratorUpdate,
  type GeneratorState,
} from '../../workflows/messages';
import { labScope, outcomeOf, startSagaEnv, type SagaEnv } from '../support/saga-env';
import { sleep, waitFor } from '../support/manual-clock';

const policy: GeneratorPolicy = {
  scope: labScope,
  capacityBasis: 'allocated',
  limitPercent: 60,
  nodeWeights: { 'srv-px1': 1 },
  memoryChoicesMiB: [256],
};

const container: ContainerTemplate = {
  template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  storage: 'local-lvm',
  diskGiB: 1,
  cores: 1,
  swapMiB: 0,
  net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
  hostnamePrefix: 'own',
  unprivileged: true,
};

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
const started: WorkflowHandle[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.terminate('test over').catch(() => undefined)));
  await s.sim.admin('DELETE', '/_sim/faults');
});
afterAll(async () => {
  await s?.teardown();
});

let clusters = 0;
function cluster(): string {
  return `own${++clusters}-${Date.now() % 100_000}`;
}

async function managedVmids(): Promise<number[]> {
  return (await s.sim.pve.clusterResources('vm'))
    .map((g) => g.vmid ?? 0)
    .filter((id) => id >= labScope.vmidMin && id <= labScope.vmidMax)
    .sort((a, b) => a - b);
}

async function startGenerator(name: string): Promise<WorkflowHandle<typeof generatorWorkflow>> {
  const handle = await s.env.client.workflow.start<typeof generatorWorkflow>('generatorWorkflow', {
    taskQueue: s.taskQueue,
    workflowId: generatorWorkflowId(name),
    args: [
      {
        cluster: name,
        policy,
        arrival: { law: 'periodic', periodSeconds: 1 },
        container,
        backoffSeconds: 1,
        seed: 7,
        maxContainers: 1,
      },
    ],
  });
  started.push(handle);
  return handle;
}

describe('provisions and the one-operation-per-container rule', () => {
  it('a migrate on a vmid the generator is still provisioning is refused, naming the provision', async () => {
    const name = cluster();
    const before = new Set(await managedVmids());
    // Holds the provision at its start step: the start call answers only after 8 s.
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'POST',
      path: '/nodes/{node}/lxc/{vmid}/status/start',
      latencyMs: 8_000,
      times: 1,
    });
    const generator = await startGenerator(name);
    const vmid = await waitFor('the new container', async () =>
      (await managedVmids()).find((id) => !before.has(id)),
    );

    const migrate = startOperation(
      s.env.client,
      'migrate',
      { vmid, target: 'srv-px2' },
      { cluster: name, taskQueue: s.taskQueue },
    );
    await expect(migrate).rejects.toBeInstanceOf(ContainerBusyError);
    const busy = (await migrate.catch((e: unknown) => e)) as ContainerBusyError;
    expect(busy.workflowId).toBe(`ct-${name}-${vmid}`);
    const holder = await s.env.client.workflow.getHandle(busy.workflowId).describe();
    expect(holder.type).toBe('provisionContainerWorkflow');
    expect(holder.status.name).toBe('RUNNING');

    const final: GeneratorState = await s.run(() => generator.result());
    expect(final.counters).toMatchObject({ created: 1, failed: 0 });
    expect(final.recent.at(-1)).toMatchObject({ outcome: 'created', vmid });
    const guest = (await s.sim.pve.clusterResources('vm')).find((g) => g.vmid === vmid);
    expect(guest).toMatchObject({ node: 'srv-px1', status: 'running' });
  });

  it('a vmid a drop just destroyed is not given to the next container', async () => {
    const name = cluster();
    const drop = await startOperation(
      s.env.client,
      'drop',
      { vmid: 1401, mode: 'destroy' },
      { cluster: name, taskQueue: s.taskQueue },
    );
    expect(await s.run(() => outcomeOf(drop))).toMatchObject({ ok: true });
    const free = await managedVmids();
    expect(free).not.toContain(1401);
    // 1401 is now the lowest free id of the range, the one an allocation without quarantine takes.
    expect(free.filter((id) => id < 1401)).toEqual([1400]);

    const final: GeneratorState = await s.run(async () => (await startGenerator(name)).result());
    expect(final.counters).toMatchObject({ created: 1, failed: 0 });
    const created = final.recent.at(-1)?.vmid;
    expect(created).toBeDefined();
    expect(created).not.toBe(1401);
    expect(await managedVmids()).not.toContain(1401);
  });

  it('a provision started through the typed start must name its vmid', async () => {
    const start = startOperation(
      s.env.client,
      'provision',
      { node: 'srv-px1', memoryMiB: 256, template: container.template },
      { cluster: cluster(), taskQueue: s.taskQueue },
    );
    await expect(start).rejects.toBeInstanceOf(InvalidOperationInputError);
    await expect(start).rejects.toThrow(/vmid: expected the vmid to create/);
  });
});

describe('generator pause', () => {
  it('returns only once the creation in flight has ended: nothing is created after it', async () => {
    const before = new Set(await managedVmids());
    await s.sim.admin('POST', '/_sim/faults', {
      method: 'POST',
      path: '/nodes/{node}/lxc/{vmid}/status/start',
      latencyMs: 6_000,
      times: 1,
    });
    const handle = await s.env.client.workflow.start<typeof generatorWorkflow>('generatorWorkflow', {
      taskQueue: s.taskQueue,
      workflowId: generatorWorkflowId(cluster()),
      args: [
        {
          cluster: `pause${clusters}`,
          policy,
          arrival: { law: 'periodic', periodSeconds: 1 },
          container,
          backoffSeconds: 1,
          seed: 9,
        },
      ],
    });
    started.push(handle);
    // A creation is in flight, held at its start step.
    await waitFor('a creation in flight', async () => (await managedVmids()).find((id) => !before.has(id)));
    const paused = await s.run(() => handle.executeUpdate(pauseGeneratorUpdate));
    expect(paused.runState).toBe('paused');
    // The creation under way had ended when pause returned...
    expect(paused.counters.created + paused.counters.failed).toBeGreaterThanOrEqual(1);
    // ...and nothing is created after it.
    const afterPause = await managedVmids();
    await sleep(3_000);
    const later = await handle.query(generatorStatusQuery);
    expect(later.counters).toEqual(paused.counters);
    expect(await managedVmids()).toEqual(afterPause);
  });
});
