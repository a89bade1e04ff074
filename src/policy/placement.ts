// Where the generator puts its next container: among the nodes still under the generation limit,
// those that keep the new container's pool best spread over zones and nodes, then a weighted draw
// among them, and a memory size drawn from the configured choices.

import type { Action, ClusterSnapshot, ManagedScope, Zones } from '../domain';
import { affinityPlacement, type AffinityRule } from './affinity';
import { loadPercent, nodeLoads, nodesUnder, type CapacityBasis, type NodeLoad } from './capacity';
import { formatPercent } from './format';
import { pickUniform, pickWeightedIndex } from './pick';
import { spreadPreferred } from './spread-placement';

/** Node name → relative weight. Empty means every node weighs the same. */
export type NodeWeights = Record<string, number>;

export interface GeneratorPolicy {
  scope: ManagedScope;
  capacityBasis: CapacityBasis;
  /** Generation stops on a node once its managed memory reaches this percent of its total. */
  limitPercent: number;
  nodeWeights: NodeWeights;
  memoryChoicesMiB: number[];
  /** Affinity rules: strict ones filter the nodes a new container may go to, preferred ones narrow. */
  affinity?: AffinityRule[];
  /**
   * The pool new containers join (the scope's) and the zones: placement then prefers the nodes that
   * keep that pool best spread. Absent in runs started before spreading, which place by weight alone.
   */
  spread?: { pool: string; zones: Zones };
}

export type ProvisionAction = Extract<Action, { kind: 'provision' }>;

/**
 * A node absent from a non-empty weight map weighs 0: the lab shared a cluster with other
 * teams and placed only on its own two nodes.
 */
export function weightOf(node: string, weights: NodeWeights): number {
  if (Object.keys(weights).length === 0) return 1;
  // hasOwn: a node named like an Object.prototype member must not pick up a function as weight.
  return Object.hasOwn(weights, node) ? (weights[node] ?? 0) : 0;
}

/** null when no node with a positive weight is under the limit: the generator backs off. */
export function chooseNode(
  loads: readonly NodeLoad[],
  weights: NodeWeights,
  limitPercent: number,
  u: number,
): string | null {
  const open = nodesUnder(loads, limitPercent);
  const index = pickWeightedIndex(
    open.map((l) => weightOf(l.node, weights)),
    u,
  );
  return index < 0 ? null : (open[index]?.node ?? null);
}

export function chooseMemoryMiB(choices: readonly number[], u: number): number | null {
  return pickUniform(choices, u) ?? null;
}

export function planProvision(
  snapshot: ClusterSnapshot,
  policy: GeneratorPolicy,
  draws: { node: number; memory: number },
  /** Drained nodes (maintenance): they take no new container. */
  closed: readonly string[] = [],
): ProvisionAction | null {
  const all = affinityOpen(snapshot, policy, nodeLoads(snapshot, policy.scope, policy.capacityBasis)).filter(
    (l) => !closed.includes(l.node),
  );
  const open = nodesUnder(all, policy.limitPercent).filter((l) => weightOf(l.node, policy.nodeWeights) > 0);
  const preferred = policy.spread ? spreadPreferred(snapshot, policy.spread, open) : null;
  const loads = preferred?.loads ?? all;
  const node = chooseNode(loads, policy.nodeWeights, policy.limitPercent, draws.node);
  const memoryMiB = chooseMemoryMiB(policy.memoryChoicesMiB, draws.memory);
  if (node === null || memoryMiB === null) return null;
  const load = loads.find((l) => l.node === node);
  const at = load ? formatPercent(loadPercent(load)) : 'unknown %';
  return {
    kind: 'provision',
    node,
    memoryMiB,
    reason:
      `${node} holds ${at} of its memory in managed containers, under the ` +
      `${formatPercent(policy.limitPercent)} generation limit; drawn with weight ` +
      `${weightOf(node, policy.nodeWeights)} among the open nodes` +
      (preferred ? `; ${preferred.why}` : ''),
  };
}

/**
 * The loads of the nodes the new container's affinity rules allow. It gets the scope's pool and
 * tag (that is what makes it managed), so rules by pool or tag bind it; rules by vmid cannot yet.
 */
function affinityOpen(snapshot: ClusterSnapshot, policy: GeneratorPolicy, loads: NodeLoad[]): NodeLoad[] {
  const rules = policy.affinity ?? [];
  if (rules.length === 0) return loads;
  const member = {
    ...(policy.scope.pool === undefined ? {} : { pool: policy.scope.pool }),
    tags: policy.scope.tag === undefined ? [] : [policy.scope.tag],
  };
  const { nodes } = affinityPlacement(
    { rules, containers: snapshot.containers },
    member,
    loads.map((l) => l.node),
  );
  return loads.filter((l) => nodes.includes(l.node));
}
