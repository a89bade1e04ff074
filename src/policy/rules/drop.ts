// The lab's drop rule: when every node passes the drop threshold, migrating cannot help, so each
// node drops its oldest managed container to make room for new ones.

import type { Action, ContainerState } from '../../domain';
import { loadPercent, nodesPassing } from '../capacity';
import { formatLoad, formatPercent, formatUptime } from '../format';
import type { LabRule } from './context';

export const dropRule: LabRule = (ctx) => {
  const { policy, loads } = ctx;
  if (loads.length === 0) return [];
  if (nodesPassing(loads, policy.dropPercent).length < loads.length) return [];
  const every = `every node is over the ${formatPercent(policy.dropPercent)} drop threshold (${loads
    .map(formatLoad)
    .join(', ')})`;
  // Each node's oldest in one pass over the containers, not one pass per node.
  const oldestOn = new Map<string, ContainerState>();
  for (const ct of ctx.actionable) {
    // Stopping a stopped container frees nothing; destroying one does.
    if (policy.dropMode !== 'destroy' && ct.status !== 'running') continue;
    const best = oldestOn.get(ct.node);
    if (best === undefined || isOlder(ct, best)) oldestOn.set(ct.node, ct);
  }
  const actions: Action[] = [];
  for (const load of loads) {
    const oldest = oldestOn.get(load.node);
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
