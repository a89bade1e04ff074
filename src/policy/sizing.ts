// Whether a node can hold a container at the size asked for: a scale or a provision is refused
// when it wants more cores than the node has, or memory that would take the node past the
// admission share (the same control a migration target gets, so no resize sets up an OOM).
import type { NodeState } from '../domain';
import { admits } from './admission';

const MiB = 1024 * 1024;

/** null when `node` can run a container of `cores` cores; else why not. */
function coresRefusal(node: NodeState, cores: number | undefined): string | null {
  if (cores === undefined || node.maxcpu <= 0 || cores <= node.maxcpu) return null;
  return `${cores} cores asked, but node ${node.name} has ${node.maxcpu} CPUs`;
}

function memoryRefusal(node: NodeState, projectedBytes: number, share: number): string {
  const pct = Math.round((projectedBytes / node.maxmem) * 100);
  return (
    `node ${node.name} would use ${pct}% of its memory, above the admission limit of ` +
    `${Math.round(share * 100)}%`
  );
}

/**
 * A scale of a container on `node` from `currentMemoryMiB` to the new limits. The node's used
 * memory counts the container's current limit out and the new one in. Shrinking always fits.
 */
export function scaleRefusal(
  node: NodeState,
  currentMemoryMiB: number,
  change: { cores?: number; memoryMiB?: number },
  admissionShare: number,
): string | null {
  const cores = coresRefusal(node, change.cores);
  if (cores) return cores;
  const { memoryMiB } = change;
  if (memoryMiB === undefined || memoryMiB <= currentMemoryMiB) return null;
  const rest = { mem: Math.max(0, node.mem - currentMemoryMiB * MiB), maxmem: node.maxmem };
  if (admits(rest, memoryMiB * MiB, admissionShare)) return null;
  return memoryRefusal(node, rest.mem + memoryMiB * MiB, admissionShare);
}

/** A new container of `memoryMiB` and `cores` on `node`. */
export function provisionRefusal(
  node: NodeState,
  request: { cores: number; memoryMiB: number },
  admissionShare: number,
): string | null {
  const cores = coresRefusal(node, request.cores);
  if (cores) return cores;
  if (admits(node, request.memoryMiB * MiB, admissionShare)) return null;
  return memoryRefusal(node, node.mem + request.memoryMiB * MiB, admissionShare);
}
