// Whether a migration may go ahead: the container exists, is managed and free, the target is a
// different online node, and the target keeps room after the move (admission control, so a move
// never sets up the OOM it was meant to avoid).
import { isManaged, type ClusterSnapshot, type ManagedScope } from '../domain';

/** True when `usedBytes + incomingBytes` stays within `share` of the node's memory. */
export function admits(
  target: { mem: number; maxmem: number },
  incomingBytes: number,
  share: number,
): boolean {
  return target.mem + incomingBytes <= share * target.maxmem;
}

export function migrationRefusal(
  snapshot: ClusterSnapshot,
  request: { vmid: number; target: string; scope: ManagedScope; admissionShare: number },
): string | null {
  const { vmid, target } = request;
  const ct = snapshot.containers.find((c) => c.vmid === vmid);
  if (!ct) return `CT ${vmid} does not exist`;
  if (!isManaged(ct, request.scope)) return `CT ${vmid} is not managed by pve-autopilot`;
  if (ct.lock) return `CT ${vmid} is locked (${ct.lock})`;
  if (ct.node === target) return `CT ${vmid} is already on ${target}`;
  const node = snapshot.nodes.find((n) => n.name === target);
  if (!node) return `no such node '${target}'`;
  if (node.status !== 'online') return `target node ${target} is ${node.status}`;
  if (!admits(node, ct.maxmem, request.admissionShare)) {
    const pct = Math.round(((node.mem + ct.maxmem) / node.maxmem) * 100);
    return (
      `target node ${target} would use ${pct}% of its memory after the move, ` +
      `above the admission limit of ${Math.round(request.admissionShare * 100)}%`
    );
  }
  return null;
}
