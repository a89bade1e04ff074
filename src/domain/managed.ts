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
