// The preflight the sagas on one existing container share: it exists, is managed (by the worker's
// own scope), free of locks, on a reachable node; and its identity is recorded, so no later step
// mistakes another container that took its vmid for it. One full read of the cluster, of which only
// the container's part and its node's come back into the history.
import { log } from '@temporalio/workflow';
import type { ManagedScope, NodeState } from '../../src/domain';
import { isManaged } from '../../src/domain';
import type { ClusterSlice, ContainerFacts } from '../../activities/proxmox';
import { reads } from './activities';
import type { Saga } from './saga';

/** The managed scope of the worker's own configuration: a workflow input cannot widen it. */
export async function managedScope(fromInput: ManagedScope | undefined): Promise<ManagedScope> {
  if (fromInput) log.warn('ignoring the scope in the input: the worker enforces its own managed scope');
  return reads.managedScope();
}

/** Refuses (never returns) unless the container may be operated on; returns it as read now. */
export async function preflightContainer(
  saga: Saga,
  vmid: number,
  inputScope: ManagedScope | undefined,
  otherNodes: string[] = [],
  /** A saga's own check against the container's node as this preflight saw it (admission). */
  admission?: (node: NodeState, facts: ContainerFacts) => string | null,
): Promise<{ facts: ContainerFacts; slice: ClusterSlice; scope: ManagedScope }> {
  const { slice, facts, node, scope } = await saga.preflight(async () => {
    const scope = await managedScope(inputScope);
    const slice = await reads.inspectCluster({ vmid, nodes: otherNodes });
    const ct = slice.container;
    if (!ct) return saga.refuse(`CT ${vmid} does not exist`);
    if (!isManaged(ct, scope)) return saga.refuse(`CT ${vmid} is not managed by pve-autopilot`);
    if (ct.lock) return saga.refuse(`CT ${vmid} is locked (${ct.lock})`);
    // Every call to an unreachable node would only retry and then fail half-way: refuse up front.
    const node = slice.nodes.find((n) => n.name === ct.node);
    if (node?.status !== 'online') {
      return saga.refuse(`node ${ct.node} of CT ${vmid} is ${node?.status ?? 'unknown'}`);
    }
    return { slice, node, scope, facts: await reads.readContainer({ vmid, near: [ct.node] }) };
  });
  if (!facts) return saga.refuse(`CT ${vmid} does not exist`);
  // The config may carry a lock /cluster/resources did not show yet (a task that just began).
  if (facts.lock) return saga.refuse(`CT ${vmid} is locked (${facts.lock})`);
  const refusal = admission?.(node, facts);
  if (refusal) return saga.refuse(refusal);
  return { facts: saga.own(facts), slice, scope };
}
