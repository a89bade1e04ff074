// What a person sees of a monitoring cycle: the observation summary the status query returns, and
// the one-line Markdown the Web UI shows as the manager's current details.
import {
  footprintBytes,
  formatAction,
  formatPercent,
  type CapacityBasis,
  type Decision,
} from '../../src/policy';
import { isManaged, type ClusterSnapshot, type ManagedScope } from '../../src/domain';

export interface ObservationSummary {
  at: number;
  nodes: Array<{
    name: string;
    status: string;
    managedPercent: number;
    usedPercent: number;
    containers: number;
  }>;
  managedContainers: number;
}

/** One decimal, so the query result reads like the reasons and stays stable on replay. */
function round1(percent: number): number {
  return Number.isFinite(percent) ? Math.round(percent * 10) / 10 : 0;
}

export function summarize(
  snapshot: ClusterSnapshot,
  scope: ManagedScope,
  basis: CapacityBasis,
): ObservationSummary {
  const managed = snapshot.containers.filter((ct) => isManaged(ct, scope));
  const nodes = [...snapshot.nodes]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((n) => {
      const mine = managed.filter((ct) => ct.node === n.name);
      const bytes = mine.reduce((sum, ct) => sum + footprintBytes(ct, basis), 0);
      return {
        name: n.name,
        status: n.status,
        managedPercent: n.maxmem > 0 ? round1((bytes * 100) / n.maxmem) : 0,
        usedPercent: n.maxmem > 0 ? round1((n.mem * 100) / n.maxmem) : 0,
        containers: mine.length,
      };
    });
  return { at: snapshot.takenAt, nodes, managedContainers: managed.length };
}

function describeDecision(d: Decision): string {
  return `${d.id} ${formatAction(d.action)} (${d.status})`;
}

interface DetailsSource {
  cycle: number;
  runState: string;
  automation: string;
  lastObservation?: ObservationSummary;
  decisions: readonly Decision[];
}

/** e.g. `**cycle 12** · auto · srv-px1 7.8 % (3 CTs), srv-px2 10.9 % (2 CTs) · c12-1 migrate ... (running)` */
export function detailsLine(state: DetailsSource, problem?: string): string {
  const head = `**cycle ${state.cycle}** · ${state.runState} · ${state.automation}`;
  const nodes = state.lastObservation?.nodes
    .map((n) => `${n.name} ${formatPercent(n.managedPercent)} (${n.containers} CTs)`)
    .join(', ');
  const live = state.decisions.filter((d) => d.status === 'running' || d.status === 'approved');
  const latest = state.decisions.filter((d) => d.cycle === state.cycle);
  const shown = [...live, ...latest.filter((d) => !live.includes(d))].map(describeDecision);
  return [
    head,
    `managed memory: ${nodes ?? 'not observed yet'}`,
    shown.length > 0 ? `actions: ${shown.join('; ')}` : 'actions: none',
    ...(problem ? [`problem: ${problem}`] : []),
  ].join(' · ');
}
