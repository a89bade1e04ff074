// Which containers the orchestrator may touch: a vmid range, optionally narrowed by pool or tag.

import type { ContainerState } from './cluster';

export interface ManagedScope {
  vmidMin: number;
  vmidMax: number;
  /** When set, only members of this pool are managed. */
  pool?: string;
  /** When set, only containers carrying this tag are managed. */
  tag?: string;
}

export function isManaged(
  ct: Pick<ContainerState, 'vmid' | 'pool' | 'tags' | 'template'>,
  scope: ManagedScope,
): boolean {
  if (ct.template) return false;
  if (ct.vmid < scope.vmidMin || ct.vmid > scope.vmidMax) return false;
  if (scope.pool !== undefined && ct.pool !== scope.pool) return false;
  if (scope.tag !== undefined && !ct.tags.includes(scope.tag)) return false;
  return true;
}

/** `vmids 1400-1499, pool autopilot, tag web`: for messages. */
export function describeScope(scope: ManagedScope): string {
  const parts = [`vmids ${scope.vmidMin}-${scope.vmidMax}`];
  if (scope.pool !== undefined) parts.push(`pool ${scope.pool}`);
  if (scope.tag !== undefined) parts.push(`tag ${scope.tag}`);
  return parts.join(', ');
}
