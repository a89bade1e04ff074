// Placement's spread filter: of the open nodes, keep those where a new member of the pool leaves it
// using the most zones, then nodes, then the most even counts; the node weights decide among them.

import { zoneIndex, zoneOf, type ClusterSnapshot, type Zones } from '../domain';
import type { NodeLoad } from './capacity';

export function spreadPreferred(
  snapshot: ClusterSnapshot,
  spread: { pool: string; zones: Zones },
  open: readonly NodeLoad[],
): { loads: NodeLoad[]; why: string } | null {
  if (open.length === 0) return null;
  const index = zoneIndex(spread.zones);
  const perNode = new Map<string, number>();
  const perZone = new Map<string, number>();
  for (const ct of snapshot.containers) {
    if (ct.pool !== spread.pool || ct.template) continue;
    perNode.set(ct.node, (perNode.get(ct.node) ?? 0) + 1);
    const z = zoneOf(index, ct.node);
    perZone.set(z, (perZone.get(z) ?? 0) + 1);
  }
  // One more member on `node`: a fresh zone or node first, then the emptiest zone, then node.
  const rank = (node: string): [number, number, number, number] => {
    const z = zoneOf(index, node);
    const inZone = perZone.get(z) ?? 0;
    const onNode = perNode.get(node) ?? 0;
    return [inZone === 0 ? 1 : 0, onNode === 0 ? 1 : 0, -inZone, -onNode];
  };
  const better = (a: readonly number[], b: readonly number[]): number => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
    return 0;
  };
  let best = rank(open[0]?.node ?? '');
  for (const l of open) if (better(rank(l.node), best) > 0) best = rank(l.node);
  const loads = open.filter((l) => better(rank(l.node), best) === 0);
  return {
    loads,
    why:
      `keeps pool ${spread.pool} best spread: ${-best[2]} member(s) in the node's zone, ` +
      `${-best[3]} on the node, before this one`,
  };
}
