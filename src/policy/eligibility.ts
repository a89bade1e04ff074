// Which containers an automatic action may touch at all; every rule draws from this list, and
// decide filters again on it, so no rule can reach outside it.

import { isManaged, type ClusterSnapshot, type ContainerState, type ManagedScope } from '../domain';
import type { NodeLoad } from './capacity';
import { isCoolingDown, isInFlight, type DecisionMemory } from './memory';

export type Ineligibility =
  'template' | 'unmanaged' | 'locked' | 'in-flight' | 'cooling-down' | 'node-unavailable';

export function whyNotActionable(
  ct: ContainerState,
  scope: ManagedScope,
  memory: DecisionMemory,
  availableNodes: readonly string[] | ReadonlySet<string>,
): Ineligibility | null {
  if (ct.template) return 'template';
  if (!isManaged(ct, scope)) return 'unmanaged';
  // PVE refuses most operations on a locked CT; the lock also means someone else is at work.
  if (ct.lock !== undefined && ct.lock !== '') return 'locked';
  if (isInFlight(memory, ct.vmid)) return 'in-flight';
  if (isCoolingDown(memory, ct.vmid)) return 'cooling-down';
  const available = 'has' in availableNodes ? availableNodes.has(ct.node) : availableNodes.includes(ct.node);
  if (!available) return 'node-unavailable';
  return null;
}

/** Sorted by vmid so that rules see the same order whatever order the API listed them in. */
export function actionableContainers(
  snapshot: ClusterSnapshot,
  scope: ManagedScope,
  memory: DecisionMemory,
  loads: readonly NodeLoad[],
): ContainerState[] {
  const available = new Set(loads.map((l) => l.node));
  return snapshot.containers
    .filter((ct) => whyNotActionable(ct, scope, memory, available) === null)
    .sort((a, b) => a.vmid - b.vmid);
}
