// Node loads as they will be once the operations already in flight complete: a migration under
// way still lists its container on the source, and deciding on that stale view would send a
// second container to a target that is about to fill up.

import { isManaged, type Action, type ClusterSnapshot, type ManagedScope } from '../domain';
import { footprintBytes, type CapacityBasis, type NodeLoad } from './capacity';

const MiB = 1024 * 1024;

export function projectInFlight(
  loads: readonly NodeLoad[],
  snapshot: ClusterSnapshot,
  scope: ManagedScope,
  basis: CapacityBasis,
  inFlight: readonly Action[],
): NodeLoad[] {
  const projected = loads.map((l) => ({ ...l }));
  const loadOf = (node: string) => projected.find((l) => l.node === node);
  for (const action of inFlight) {
    if (action.kind === 'provision') {
      const target = loadOf(action.node);
      if (!target) continue;
      const bytes = action.memoryMiB * MiB;
      if (basis === 'allocated') target.managedBytes += bytes;
      target.usedBytes += bytes;
      continue;
    }
    const ct = snapshot.containers.find((c) => c.vmid === action.vmid);
    if (!ct || !isManaged(ct, scope)) continue;
    const here = loadOf(ct.node);
    switch (action.kind) {
      case 'migrate': {
        // Once the container shows on the target, the snapshot already tells the truth.
        if (ct.node !== action.from) break;
        const target = loadOf(action.to);
        const bytes = footprintBytes(ct, basis);
        if (here) here.managedBytes -= bytes;
        if (target) {
          target.managedBytes += bytes;
          // Its full limit, as the admission check counts it.
          target.usedBytes += ct.maxmem;
        }
        break;
      }
      case 'drop':
        // A stopped container keeps its allocation; only destroying it frees the allocated basis.
        if (here && ct.node === action.node && (action.mode === 'destroy' || basis === 'used')) {
          here.managedBytes -= footprintBytes(ct, basis);
        }
        break;
      case 'scale':
        if (here && basis === 'allocated' && action.memoryMiB !== undefined) {
          here.managedBytes += action.memoryMiB * MiB - ct.maxmem;
        }
        break;
    }
  }
  return projected;
}
