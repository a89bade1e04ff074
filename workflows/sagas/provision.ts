// provisionContainerWorkflow: create a container on the vmid its caller allocated, and start it.
// preflight → create (marked with this run as its owner) → start → verify. It runs under the
// container's own workflow id (ct-<cluster>-<vmid>), so no other operation starts on the vmid while
// it is being created. Any failure stops and destroys what this run created, and never touches a
// container it did not create.
import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { isOwnedBy, provisionInputSchema, type OperationResult, type ProvisionInput } from '../../src/domain';
import type { ContainerFacts, CreateRequest } from '../../activities/proxmox';
import { compensations, reads, requests } from './activities';
import { provisionRefusal } from '../../src/policy/sizing';
import { completingRefusals, parseInput, Saga, verificationFailure } from './saga';

/** How many taken ids one run skips before it gives up (each skip means another creator won a race). */
const maxCandidates = 10;

type ParsedProvision = ReturnType<typeof provisionInputSchema.parse>;

export function provisionContainerWorkflow(raw: ProvisionInput): Promise<OperationResult> {
  return completingRefusals(() => provisionSaga(raw));
}

async function provisionSaga(raw: ProvisionInput): Promise<OperationResult> {
  const input = parseInput(provisionInputSchema, raw);
  const { node } = input;
  // Written into the description: how a retry, or the compensation, knows the container is this
  // run's and not one another creator put on the same id. The container's workflow id is shared by
  // every operation ever run on that vmid, so the run id makes the mark this creation's own.
  const { workflowId, runId } = workflowInfo();
  const owner = input.vmid === undefined ? workflowId : `${workflowId}@${runId}`;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('provision', input.vmid ?? null, node);

  saga.at('preflight', `${input.memoryMiB} MiB on ${node}`);
  // Only the target node (and the vmid's holder, if any) come back from the cluster read.
  const { slice, scope } = await saga.preflight(async () => ({
    scope: input.vmid === undefined ? null : await reads.managedScope(),
    slice: await reads.inspectCluster({ vmid: input.vmid ?? 0, nodes: [node] }),
  }));
  const target = slice.nodes.find((n) => n.name === node);
  if (!target) saga.refuse(`no such node '${node}'`);
  if (target.status !== 'online') saga.refuse(`node ${node} is ${target.status}`);
  const admission = provisionRefusal(target, input, input.admissionShare);
  if (admission) saga.refuse(admission);
  if (input.vmid !== undefined && scope) {
    const id = input.vmid;
    if (id < scope.vmidMin || id > scope.vmidMax) {
      saga.refuse(`vmid ${id} is outside the managed range ${scope.vmidMin}-${scope.vmidMax}`);
    }
    const holder = slice.container;
    if (holder) saga.refuse(`vmid ${id} is taken by CT ${id} (${holder.name}) on ${holder.node}`);
  }

  // The id this run is creating, for the compensation (the saga itself lets its task end first).
  let candidate: number | null = null;

  const vmid = await saga.runFor(
    async () => {
      if (input.vmid !== undefined) {
        candidate = input.vmid;
        saga.at('create', `CT ${input.vmid} on ${node}`);
        return (await createOwned(input.vmid)) ? input.vmid : null;
      }
      // Runs started before callers allocated the vmid (no vmid in their input) allocate it here;
      // kept so that those runs replay.
      const skip: number[] = [];
      for (;;) {
        saga.at('allocate', skip.length > 0 ? `skipping taken ${skip.join(', ')}` : '');
        const id = await reads.allocateVmid({ skip });
        if (id === null) {
          throw ApplicationFailure.create({
            type: 'NoFreeVmid',
            message: 'no free vmid in the managed range',
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
  if (vmid === null) saga.refuse(`vmid ${input.vmid ?? '?'} was taken by another creator meanwhile`);
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

/** The worker's requestCreate adds its scope's pool and tag, which make the new container managed. */
function createSpec(input: ParsedProvision, vmid: number): CreateRequest['spec'] {
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
