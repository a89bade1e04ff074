// The affinity rule: repairs the affinity rules (config `affinity.rules`) the cluster breaks, strict
// and preferred alike, one migration per misplaced member: a pinned container goes to an allowed
// node, an anti-affine one to a node holding no other member, an affine one to where its group is.
// Strict rules need no rule to be kept: the projection refuses every move that breaks one.

import type { z } from 'zod';
import type { Action, ContainerState } from '../../domain';
import { affinityRulesSchema } from '../affinity-config';
import {
  affinityProblem,
  affinityViolations,
  breach,
  describeRule,
  projectedNodeOf,
  type AffinityRule,
} from '../affinity';
import { compareNames } from '../capacity';
import { admissionProblem, applyAction, projectCluster, type ProjectedCluster } from '../projected-cluster';
import type { Proposal, Rule } from '../rule';
import { ruleSection } from '../rule-config';

/** The highest below emergencies (autoscale's 100): a broken placement rule goes before balancing. */
export const AFFINITY_PRIORITY = 90;

export const affinityConfigSchema = ruleSection(
  {
    /** The rules themselves; the manager's settings carry them to the projection as well. */
    rules: affinityRulesSchema.default([]),
  },
  { enabled: true, automation: 'auto', priority: AFFINITY_PRIORITY },
);

export type AffinityConfig = z.output<typeof affinityConfigSchema>;

export const affinityRule: Rule<AffinityConfig, null> = {
  name: 'affinity',
  config: affinityConfigSchema,
  initialState: () => null,
  evaluate(view) {
    const notes: string[] = [];
    const proposals: Proposal[] = [];
    if ((view.settings.affinity ?? []).length === 0) return { proposals, state: null, notes };
    const actionable = new Map(view.actionable.map((ct) => [ct.vmid, ct]));
    // The rule's own projection, in-flight moves landed, so its repairs do not spend the same room
    // twice or repeat a move under way; the round checks each of them again all the same.
    const cluster = projectCluster(view.snapshot, view.settings, view.inFlight);
    const violations = affinityViolations(cluster, (vmid) => actionable.has(vmid));
    // Strict rules first: a preferred repair must not take the room a strict one needs.
    violations.sort((a, b) => Number(b.rule.strict) - Number(a.rule.strict));
    for (const { rule, misplaced } of violations) {
      for (const m of misplaced) {
        const ct = actionable.get(m.vmid);
        if (!ct) {
          notes.push(
            `CT ${m.vmid} ${m.why} (${describeRule(rule)}) but is not a container this manager may move now`,
          );
          continue;
        }
        if (projectedNodeOf(cluster, m.vmid) !== m.node || cluster.busy.has(m.vmid)) continue;
        const move = repair(cluster, rule, ct, m.why, m.home);
        if (typeof move === 'string') {
          notes.push(`CT ${m.vmid} ${m.why} (${describeRule(rule)}); no repair: ${move}`);
          continue;
        }
        applyAction(cluster, move);
        proposals.push({ action: move });
      }
    }
    return { proposals, state: null, notes };
  },
};

/** The move that puts `ct` right for `rule`, or why none can (every target refused). */
function repair(
  cluster: ProjectedCluster,
  rule: AffinityRule,
  ct: ContainerState,
  why: string,
  home: string | undefined,
): Action | string {
  const others = (cluster.affinity?.members[cluster.affinity.rules.indexOf(rule)] ?? [])
    .filter((vmid) => vmid !== ct.vmid)
    .flatMap((vmid) => {
      const node = projectedNodeOf(cluster, vmid);
      return node === undefined ? [] : [{ vmid, node }];
    });
  const targets = [...cluster.nodes.values()]
    // A split affinity group gathers on its home; anything else goes where most memory is free.
    .filter((n) => (home === undefined ? n.name !== ct.node : n.name === home))
    .filter((n) => breach(rule, n.name, ct.node, others) === undefined)
    .sort((a, b) => b.maxmem - b.usedBytes - (a.maxmem - a.usedBytes) || compareNames(a.name, b.name));
  if (targets.length === 0) return 'no node satisfies the rule';
  const refusals: string[] = [];
  for (const target of targets) {
    const action: Action = {
      kind: 'migrate',
      vmid: ct.vmid,
      from: ct.node,
      to: target.name,
      reason: `CT ${ct.vmid} ${why}, against the ${describeRule(rule)}; ${target.name} keeps the rule`,
    };
    // Not at the cost of another rule of the container, preferred ones included: two rules that
    // cannot both hold would otherwise have it moved back and forth.
    const refusal = admissionProblem(cluster, action) ?? affinityProblem(action, cluster, 'all') ?? null;
    if (refusal === null) return action;
    refusals.push(refusal);
  }
  return refusals.join('; ');
}
