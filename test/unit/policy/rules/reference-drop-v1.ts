// The lab drop rule as it was before it was optimised (commit 63a3afd), kept only as the oracle of
// lab-rules-equivalence.test.ts: the optimised rule must decide exactly as this one does.

import type { Action, ContainerState } from '../../../../src/domain';
import { loadPercent, nodesPassing } from '../../../../src/policy/capacity';
import { formatLoad, formatPercent, formatUptime } from '../../../../src/policy/format';
import type { LabRule } from '../../../../src/policy/rules/context';

export const referenceDropRule: LabRule = (ctx) => {
  const { policy, loads } = ctx;
  if (loads.length === 0) return [];
  if (nodesPassing(loads, policy.dropPercent).length < loads.length) return [];
  const every = `every node is over the ${formatPercent(policy.dropPercent)} drop threshold (${loads
    .map(formatLoad)
    .join(', ')})`;
  const actions: Action[] = [];
  for (const load of loads) {
    // Stopping a stopped container frees nothing; destroying one does.
    const candidates = ctx.actionable.filter(
      (ct) => ct.node === load.node && (policy.dropMode === 'destroy' || ct.status === 'running'),
    );
    const oldest = candidates.reduce<ContainerState | undefined>(
      (best, ct) => (best === undefined || isOlder(ct, best) ? ct : best),
      undefined,
    );
    if (oldest === undefined) {
      ctx.note(`${every}, but ${load.node} has no container that can be dropped`);
      continue;
    }
    const verb = policy.dropMode === 'destroy' ? 'destroying' : 'stopping';
    actions.push({
      kind: 'drop',
      vmid: oldest.vmid,
      node: load.node,
      mode: policy.dropMode,
      reason:
        `${every}; ${verb} the oldest managed container on ${load.node} ` +
        `(${formatPercent(loadPercent(load))}), CT ${oldest.vmid}, up ${formatUptime(oldest.uptime)}`,
    });
  }
  return actions;
};

/** Oldest = longest uptime; among equals the lowest vmid, the one created first in the lab's range. */
function isOlder(a: ContainerState, b: ContainerState): boolean {
  return a.uptime > b.uptime || (a.uptime === b.uptime && a.vmid < b.vmid);
}
