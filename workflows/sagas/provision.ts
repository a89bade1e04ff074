// provisionContainerWorkflow: create a container in the managed range and start it.
// preflight → allocate a vmid → create (owned by this workflow id) → start → verify. An id someone
// else took meanwhile is skipped for the next one; any failure stops and destroys what this run
// created, and never touches a container it did not create.
import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { isOwnedBy, provisionInputSchema, type OperationResult, type ProvisionInput } from '../../src/domain';
import type { ContainerFacts, CreateRequest } from '../../activities/proxmox';
import { compensations, reads, requests } from './activities';
import { parseInput, Saga, verificationFailure } from './saga';

/** How many taken ids one run skips before it gives up (each skip means another creator won a race). */
const maxCandidates = 10;

type ParsedProvision = ReturnType<typeof provisionInputSchema.parse>;

export async function provisionContainerWorkflow(raw: ProvisionInput): Promise<OperationResult> {
  const input = parseInput(provisionInputSchema, raw);
  const { node } = input;
  // The workflow id is written into the description: how a retry, or the compensation, knows the
  // container is this run's and not one another creator put on the same id.
  const owner = workflowInfo().workflowId;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('provision', null, node);

  saga.at('preflight', `${input.memoryMiB} MiB on ${node}`);
  // Only the target node comes back from the cluster read, not the whole fleet.
  const slice = await saga.preflight(() => reads.inspectCluster({ vmid: 0, nodes: [node] }));
  const target = slice.nodes.find((n) => n.name === node);
  if (!target) saga.refuse(`no such node '${node}'`);
  if (target.status !== 'online') saga.refuse(`node ${node} is ${target.status}`);

  // The id this run is creating, for the compensation (the saga itself lets its task end first).
  let candidate: number | null = null;

  const vmid = await saga.runFor(
    async () => {
      const skip: number[] = [];
      for (;;) {
        saga.at('allocate', skip.length > 0 ? `skipping taken ${skip.join(', ')}` : '');
        const id = await reads.allocateVmid({ skip });
        if (id === null) {
          throw ApplicationFailure.create({
            type: 'NoFreeVmid',
            message: `no free vmid in the managed range ${input.scope.vmidMin}-${input.scope.vmidMax}`,
            nonRetryable: true,
          });
        }
        candidate = id;
        saga.assignVmid(id);
        saga.at('create', `CT ${id} on ${node}`);
        if (await createOwned(id)) return id;
        candidate = null;
        skip.push(id);
        if (skip.length >= maxCandidates) {
          throw ApplicationFailure.create({
            type: 'VmidTaken',
            message: `vmids ${skip.join(', ')} were taken by other creators while this run tried them`,
            nonRetryable: true,
          });
        }
      }
    },
    async () => {
      const id = candidate;
      if (id === null) return 'nothing was created';
      const now = await compensations.readContainer({ vmid: id, near: [node] });
      if (!now) return `CT ${id} was not created`;
      if (!ownedBy(now, owner)) return `vmid ${id} belongs to another creator; left alone`;
      if (now.status === 'running') await saga.task(compensations.requestStop({ node: now.node, vmid: id }));
      await saga.task(compensations.requestDestroy({ vmid: id, near: [now.node] }));
      if (await compensations.readContainer({ vmid: id, near: [node] })) {
        throw verificationFailure(`CT ${id} still exists after its destroy`);
      }
      return `CT ${id} stopped and destroyed`;
    },
  );
  // runFor gives no value only when a goal check let it succeed; provision has none.
  if (vmid === undefined) throw verificationFailure('provision ended without a container');
  return { ...saga.succeed(node, `CT ${vmid} created on ${node}${input.start ? ', running' : ''}`), vmid };

  /** Creates, starts and verifies CT `id`; false when the id turned out to be another creator's. */
  async function createOwned(id: number): Promise<boolean> {
    try {
      await saga.task(requests.requestCreate({ node, spec: createSpec(input, id), owner }));
    } catch (err) {
      if (failureTypeOf(err) === 'VmidTaken') return false;
      throw err;
    }
    // requestCreate adopts any create in flight for the id, whoever started it: only the owner
    // marker tells whether the container that came out of it is ours.
    const made = await reads.readContainer({ vmid: id, near: [node] });
    if (!made || !ownedBy(made, owner)) return false;
    if (input.start) {
      saga.at('start', `CT ${id} on ${node}`);
      await saga.task(requests.requestStart({ node, vmid: id }));
    }
    saga.at('verify');
    checkCreated(await reads.readContainer({ vmid: id, near: [node] }), input, id, node, owner);
    return true;
  }
}

function createSpec(input: ParsedProvision, vmid: number): CreateRequest['spec'] {
  const { scope } = input;
  return {
    vmid,
    ostemplate: input.template,
    hostname: `${input.hostnamePrefix}-${vmid}`,
    memory: input.memoryMiB,
    swap: input.swapMiB,
    cores: input.cores,
    rootfs: `${input.storage}:${input.diskGiB}`,
    net0: input.net0,
    unprivileged: input.unprivileged,
    // The scope's pool and tag make the new container managed by the same rule that admits it.
    ...(scope.pool !== undefined ? { pool: scope.pool } : {}),
    ...(scope.tag !== undefined ? { tags: [scope.tag] } : {}),
    ...(input.reason !== undefined ? { description: input.reason } : {}),
  };
}

function ownedBy(facts: ContainerFacts, owner: string): boolean {
  return isOwnedBy(facts.description, owner);
}

function failureTypeOf(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function checkCreated(
  now: ContainerFacts | null,
  spec: ParsedProvision,
  vmid: number,
  node: string,
  owner: string,
): void {
  if (!now || !ownedBy(now, owner)) throw verificationFailure(`CT ${vmid} is gone after its create`);
  const want = spec.start ? 'running' : 'stopped';
  if (now.node !== node || now.status !== want) {
    throw verificationFailure(`CT ${vmid} is ${now.status} on ${now.node}, expected ${want} on ${node}`);
  }
  if (now.cores !== spec.cores || now.memoryMiB !== spec.memoryMiB || now.swapMiB !== spec.swapMiB) {
    throw verificationFailure(
      `CT ${vmid} has ${now.cores} cores, ${now.memoryMiB} MiB, ${now.swapMiB} MiB swap; ` +
        `expected ${spec.cores}, ${spec.memoryMiB}, ${spec.swapMiB}`,
    );
  }
}
