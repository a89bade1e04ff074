// The shape of an affinity rule (config `affinity.rules`, and the manager's settings): which
// containers it binds (by vmids, pool or tag), how (apart, together, or pinned to nodes) and whether
// it is strict (never broken by any move) or preferred (repaired when broken, not enforced).

import { z } from 'zod';
import {
  flag,
  integerBetween,
  matching,
  nonEmptyText,
  oneOf,
  reject,
  whenFieldsValid,
} from '../config/fields';

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const NODE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
const PVE_TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;

export const affinityKinds = ['anti-affinity', 'affinity', 'pin'] as const;
export type AffinityKind = (typeof affinityKinds)[number];

export const affinityRuleSchema = z
  .strictObject(
    {
      name: matching(RULE_NAME, 'a rule name of letters, digits, . _ - (up to 63)'),
      kind: oneOf(affinityKinds),
      /** Members by vmid, pool or tag: exactly one of the three. */
      vmids: z
        .array(integerBetween(100, 999_999_999), { error: 'expected a list of vmids' })
        .min(1, { error: 'expected at least one vmid' })
        .optional(),
      pool: nonEmptyText('a pool id').optional(),
      tag: matching(PVE_TAG, 'a tag of letters, digits, _ - + .').optional(),
      /** pin only: the nodes its members may run on. */
      nodes: z
        .array(matching(NODE_NAME, 'a node name'), { error: 'expected a list of node names' })
        .min(1, { error: 'expected at least one node name' })
        .optional(),
      /** Strict: no move of any rule may break it. Preferred (false): repaired, not enforced. */
      strict: flag().default(false),
    },
    { error: 'expected a mapping with name, kind, one of vmids/pool/tag, and strict' },
  )
  .superRefine((r, ctx) => {
    const selectors = (['vmids', 'pool', 'tag'] as const).filter((k) => r[k] !== undefined);
    if (selectors.length !== 1) {
      const found = selectors.length === 0 ? 'none' : selectors.join(' and ');
      reject(
        ctx,
        undefined,
        `expected exactly one of vmids, pool, tag to select the members (found ${found})`,
        r,
      );
    }
    if (r.vmids !== undefined && new Set(r.vmids).size !== r.vmids.length) {
      reject(ctx, 'vmids', 'expected each vmid once', r.vmids);
    }
    if (r.vmids !== undefined && r.kind !== 'pin' && r.vmids.length < 2) {
      reject(ctx, 'vmids', `expected at least two vmids for ${r.kind} (a rule between members)`, r.vmids);
    }
    if (r.kind === 'pin' && r.nodes === undefined) {
      reject(ctx, 'nodes', 'expected the list of nodes a pin rule allows', r.nodes);
    }
    if (r.kind !== 'pin' && r.nodes !== undefined) {
      reject(ctx, 'nodes', `expected no nodes: only a pin rule has them, this one is ${r.kind}`, r.nodes);
    }
  }, whenFieldsValid);

export type AffinityRule = z.output<typeof affinityRuleSchema>;

export const affinityRulesSchema = z
  .array(affinityRuleSchema, { error: 'expected a list of affinity rules' })
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: 'expected a name no other rule has',
          input: r.name,
        });
      }
      seen.add(r.name);
    });
  }, whenFieldsValid);

/**
 * The pin rules' nodes the cluster lacks (a typo, a retired node): such a rule allows fewer nodes
 * than it says, or none. Needs the cluster, so `config validate --online` runs it, as it checks zones.
 */
export function pinProblems(
  rules: readonly AffinityRule[],
  clusterNodes: readonly string[],
): Array<{ path: string; message: string }> {
  const known = new Set(clusterNodes);
  const has = [...known].sort().join(', ');
  return rules.flatMap((r, i) =>
    (r.nodes ?? [])
      .filter((node) => !known.has(node))
      .map((node) => ({
        path: `affinity.rules[${i}].nodes`,
        message: `node '${node}' is not in the cluster (it has ${has})`,
      })),
  );
}
