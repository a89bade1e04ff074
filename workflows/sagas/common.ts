// What the sagas on one existing container share beyond Saga: the preflight (exists, managed, free
// of locks, on a reachable node) and a task handle a compensation can wait on after a cancel.
import { log, patched } from '@temporalio/workflow';
import type { ManagedScope, NodeState } from '../../src/domain';
import { isManaged, snapshotOf } from '../../src/domain';
import type { ContainerFacts, TaskRequest } from '../../activities/proxmox';
import { reads, waits } from './activities';
import type { Saga } from './saga';

/**
 * The managed scope of the worker's own configuration: a workflow input cannot widen it. Runs
 * started before the worker enforced it replay with the scope their input carried.
 */
export async function managedScope(fromInput: ManagedScope | undefined): Promise<ManagedScope> {
  if (!patched('managed-scope-from-worker') && fromInput) return fromInput;
  if (fromInput) log.warn('ignoring the scope in the input: the worker enforces its own managed scope');
  return reads.managedScope();
}

/** Refuses (never returns) unless the container may be operated on; returns it as read now. */
export async function preflightContainer(
  saga: Saga,
  vmid: number,
  inputScope: ManagedScope | undefined,
  /** A saga's own check against the container's node as this preflight saw it (admission). */
  admission?: (node: NodeState, facts: ContainerFacts) => string | null,
): Promise<ContainerFacts> {
  const scope = await managedScope(inputScope);
  const snapshot = snapshotOf(await reads.observeCluster());
  const ct = snapshot.containers.find((c) => c.vmid === vmid);
  if (!ct) return saga.refuse(`CT ${vmid} does not exist`);
  if (!isManaged(ct, scope)) return saga.refuse(`CT ${vmid} is not managed by pve-autopilot`);
  if (ct.lock) return saga.refuse(`CT ${vmid} is locked (${ct.lock})`);
  // Every call to an unreachable node would only retry and then fail half-way: refuse up front.
  const node = snapshot.nodes.find((n) => n.name === ct.node);
  if (node?.status !== 'online') {
    return saga.refuse(`node ${ct.node} of CT ${vmid} is ${node?.status ?? 'unknown'}`);
  }
  const facts = await reads.readContainer({ vmid });
  if (!facts) return saga.refuse(`CT ${vmid} does not exist`);
  // The config may carry a lock /cluster/resources did not show yet (a task that just began).
  if (facts.lock) return saga.refuse(`CT ${vmid} is locked (${facts.lock})`);
  const refusal = admission?.(node, facts);
  if (refusal) return saga.refuse(refusal);
  saga.node(facts.node);
  return facts;
}

/**
 * The PVE task a saga is waiting on. A cancelled saga stops waiting, but PVE keeps running the task
 * (and its lock): the compensation lets it end first, or its own calls would meet that lock.
 */
export class InFlight {
  private current: TaskRequest | null = null;

  /** Like Saga.task, but remembers the task before waiting on it. */
  async run(request: Promise<TaskRequest>): Promise<TaskRequest> {
    const started = await request;
    this.current = started;
    if (started.upid) await waits.awaitTask({ node: started.node, upid: started.upid });
    return started;
  }

  /** Waits for the last task to end, however it ends: its failure was the forward path's concern. */
  async settle(): Promise<void> {
    const task = this.current;
    if (!task?.upid) return;
    try {
      await waits.awaitTask({ node: task.node, upid: task.upid });
    } catch {
      // Ended badly or could not be followed; the compensation reads the container state anyway.
    }
  }
}
