// Where a drained node's managed containers go (maintenance): the next moves of a drain, each to the
// node placement ranks first among those the one projected cluster admits. Targets are filtered by
// admissionProblem (online, not drained, room for the limit and the CPU, and every check plugged in
// there) and by the per-node migration budget, then ranked by rankTargets; the drain's own moves in
// flight are reserved in the projection first, so parallel moves never spend the same headroom.

import { isManaged, type Action, type ClusterSnapshot, type ContainerState } from '../domain';
import { compareNames } from './capacity';
import { formatPercent } from './format';
import {
  admissionProblem,
  applyAction,
  projectCluster,
  type ProjectedCluster,
  type ProjectedNode,
} from './projected-cluster';
import type { CoreSettings } from './rule';

export type MigrateAction = Extract<Action, { kind: 'migrate' }>;

export interface EvacuationInput {
  snapshot: ClusterSnapshot;
  /** The core settings; drainedNodes should hold the node itself and every other drained node. */
  settings: CoreSettings;
  node: string;
  /** The drain's own migrations still running. */
  inFlight: readonly MigrateAction[];
  /** How many more migrations may start now (K minus those in flight). */
  slots: number;
  /** Containers not to try again now (failed too often, or busy with another operation). */
  skip: readonly number[];
}

export interface EvacuationPlan {
  moves: MigrateAction[];
  /** Managed containers still on the node, in flight and just planned included, by vmid. */
  remaining: number[];
  /** Managed containers that cannot move now, and why (no admissible target, locked). */
  blocked: Array<{ vmid: number; why: string }>;
  /** Guests the drain leaves on the node: containers outside the managed scope, and templates. */
  unmanaged: Array<{ vmid: number; name: string }>;
}

export function planEvacuation(input: EvacuationInput): EvacuationPlan {
  const { snapshot, settings, node } = input;
  const settingsWithNode = settings.drainedNodes.includes(node)
    ? settings
    : { ...settings, drainedNodes: [...settings.drainedNodes, node] };
  const cluster = projectCluster(snapshot, settingsWithNode, input.inFlight);
  const skip = new Set(input.skip);
  const remaining: number[] = [];
  const unmanaged: EvacuationPlan['unmanaged'] = [];
  const candidates: ContainerState[] = [];
  const blocked: EvacuationPlan['blocked'] = [];
  for (const ct of snapshot.containers) {
    if (ct.node !== node) continue;
    if (!isManaged(ct, settings.scope)) {
      unmanaged.push({ vmid: ct.vmid, name: ct.name });
      continue;
    }
    remaining.push(ct.vmid);
    if (cluster.busy.has(ct.vmid) || skip.has(ct.vmid)) continue;
    if (ct.lock !== undefined && ct.lock !== '') {
      blocked.push({ vmid: ct.vmid, why: `CT ${ct.vmid} is locked (${ct.lock})` });
      continue;
    }
    candidates.push(ct);
  }
  // Largest first: the containers hardest to place get the most room (first-fit decreasing).
  candidates.sort((a, b) => b.maxmem - a.maxmem || a.vmid - b.vmid);
  const moves: MigrateAction[] = [];
  for (const ct of candidates) {
    if (moves.length >= input.slots) break;
    const ranked = rankTargets(cluster, ct);
    const best = ranked.targets[0];
    if (best === undefined) {
      blocked.push({ vmid: ct.vmid, why: ranked.why ?? `no node can take CT ${ct.vmid}` });
      continue;
    }
    const action: MigrateAction = {
      kind: 'migrate',
      vmid: ct.vmid,
      from: node,
      to: best.name,
      reason:
        `${node} is drained for maintenance; ${best.name} is the admitted target with the most room ` +
        `(${formatPercent(best.usedPercentAfter)} of its memory after the move)`,
    };
    applyAction(cluster, action);
    moves.push(action);
  }
  return { moves, remaining, blocked: blocked.sort((a, b) => a.vmid - b.vmid), unmanaged };
}

export interface RankedTarget {
  name: string;
  /** The target's used memory with the incoming container's whole limit, in percent. */
  usedPercentAfter: number;
}

/**
 * The nodes that may take `ct` now, best first: admitted by the projected cluster (so every check
 * of admissionProblem applies), under the per-node migration budget, ranked by the share of memory
 * left after the move, then by fewer migrations under way, then by name. `why` says why the first
 * refused node was refused when none is left. A scoring rule (spread, affinity preferences) would
 * plug in at the sort.
 */
export function rankTargets(
  cluster: ProjectedCluster,
  ct: ContainerState,
): { targets: RankedTarget[]; why?: string } {
  const scored: Array<RankedTarget & { node: ProjectedNode }> = [];
  let why: string | undefined;
  for (const node of cluster.nodes.values()) {
    if (node.name === ct.node) continue;
    const probe: MigrateAction = { kind: 'migrate', vmid: ct.vmid, from: ct.node, to: node.name, reason: '' };
    const refusal =
      admissionProblem(cluster, probe) ??
      (node.migrations >= cluster.settings.maxPerNode
        ? `at most ${cluster.settings.maxPerNode} migration(s) into ${node.name} at once`
        : null);
    if (refusal) {
      why ??= refusal;
      continue;
    }
    scored.push({
      name: node.name,
      node,
      usedPercentAfter: ((node.usedBytes + ct.maxmem) * 100) / node.maxmem,
    });
  }
  scored.sort(
    (a, b) =>
      a.usedPercentAfter - b.usedPercentAfter ||
      a.node.migrations - b.node.migrations ||
      compareNames(a.name, b.name),
  );
  const targets = scored.map(({ name, usedPercentAfter }) => ({ name, usedPercentAfter }));
  return why === undefined || targets.length > 0
    ? { targets }
    : { targets, why: `no node can take CT ${ct.vmid}: ${why}` };
}
