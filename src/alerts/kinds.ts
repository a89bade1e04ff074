// What each alert kind measures: from the facts of one evaluation to one reading per subject (a
// node, a container, a pool, an operation). Pure; run by the readings activity, so history keeps
// only the readings, not the cluster. A new kind is one entry in `alertKinds`.
import type { ClusterSnapshot } from '../domain';
import type { SpreadReport } from '../policy/spread';
import type { AlertRule, AlertRuleKind } from './schema';

export interface AttentionRun {
  workflowId: string;
  runId: string;
  /** Epoch ms. */
  closedAt: number;
  operation?: string;
  vmid?: string;
}

export interface AlertFacts {
  /** Epoch ms of the reading. */
  now: number;
  snapshot: ClusterSnapshot | null;
  /** Epoch ms of the manager's last completed observation; null when it never observed. */
  managerObservedAt: number | null;
  /** Epoch ms since which the alerts workflow runs: a manager never seen counts as stalled since. */
  alertsSince: number;
  attention: AttentionRun[];
  /** The spread plan of every group, as `spread check` makes it; empty when no rule needs it. */
  spread: SpreadReport[];
}

export interface Reading {
  /** What the alert is about, unique within its rule: a node name, `ct/1401`, a workflow id. */
  subject: string;
  value: number;
  summary: string;
  labels: Record<string, string>;
}

export interface Thresholds {
  above: number;
  resolveBelow: number;
  forSeconds: number;
}

export interface AlertKind<R extends AlertRule = AlertRule> {
  thresholds(rule: R): Thresholds;
  /** What the kind needs read before it can be evaluated. */
  needs: 'cluster' | 'manager' | 'attention';
  read(rule: R, facts: AlertFacts): Reading[];
}

type RuleOf<K extends AlertRuleKind> = Extract<AlertRule, { kind: K }>;

const pct = (part: number, whole: number): number => (whole > 0 ? (part / whole) * 100 : 0);
const round1 = (n: number): string => (Math.round(n * 10) / 10).toFixed(1);

function percentThresholds(rule: { above: number; resolveBelow?: number; forSeconds: number }): Thresholds {
  return {
    above: rule.above,
    resolveBelow: rule.resolveBelow ?? Math.max(0, rule.above - 5),
    forSeconds: rule.forSeconds,
  };
}

function nodeKind(what: 'cpu' | 'memory' | 'disk'): AlertKind {
  return {
    needs: 'cluster',
    thresholds: (rule) => percentThresholds(rule as RuleOf<'node-cpu'>),
    read: (_rule, facts) =>
      (facts.snapshot?.nodes ?? [])
        .filter((n) => n.status === 'online')
        .map((n) => {
          const value =
            what === 'cpu' ? n.cpu * 100 : what === 'memory' ? pct(n.mem, n.maxmem) : pct(n.disk, n.maxdisk);
          return {
            subject: n.name,
            value,
            summary: `node ${n.name} ${what} at ${round1(value)} %`,
            labels: { node: n.name },
          };
        }),
  };
}

const containerMemory: AlertKind = {
  needs: 'cluster',
  thresholds: (rule) => percentThresholds(rule as RuleOf<'container-memory'>),
  read: (_rule, facts) =>
    (facts.snapshot?.containers ?? [])
      .filter((ct) => ct.status === 'running' && !ct.template && ct.maxmem > 0)
      .map((ct) => {
        const value = pct(ct.mem, ct.maxmem);
        return {
          subject: `ct/${ct.vmid}`,
          value,
          summary: `CT ${ct.vmid} on ${ct.node} uses ${round1(value)} % of its memory limit`,
          labels: { vmid: String(ct.vmid), node: ct.node },
        };
      }),
};

const managerStalled: AlertKind = {
  needs: 'manager',
  thresholds: (rule) => {
    const { minutes } = rule as RuleOf<'manager-stalled'>;
    return { above: minutes, resolveBelow: minutes, forSeconds: 0 };
  },
  read: (_rule, facts) => {
    const last = facts.managerObservedAt;
    const minutes = (facts.now - (last ?? facts.alertsSince)) / 60_000;
    return [
      {
        subject: 'manager',
        value: minutes,
        summary:
          last === null
            ? `the cluster manager has not completed a cycle since alerts started ${round1(minutes)} min ago`
            : `the cluster manager has not completed a cycle for ${round1(minutes)} min`,
        labels: {},
      },
    ];
  },
};

const sagaAttention: AlertKind = {
  needs: 'attention',
  thresholds: () => ({ above: 1, resolveBelow: 1, forSeconds: 0 }),
  read: (rule, facts) => {
    const since = facts.now - (rule as RuleOf<'saga-attention'>).lookbackHours * 3_600_000;
    return facts.attention
      .filter((run) => run.closedAt >= since)
      .map((run) => ({
        // The run id too: a later operation on the same container is a new alert.
        subject: `${run.workflowId}/${run.runId}`,
        value: 1,
        summary: `${run.operation ?? 'an operation'} of CT ${run.vmid ?? '?'} needs attention (${run.workflowId})`,
        labels: { workflowId: run.workflowId, ...(run.vmid === undefined ? {} : { vmid: run.vmid }) },
      }));
  },
};

/**
 * "Badly spread" as `spread check` says it: a pool whose spread plan has moves (the pool could use
 * more zones, or more nodes, than it does). The value is how many migrations the plan needs.
 */
export function poolSpreadReadings(reports: readonly SpreadReport[], pool: string | undefined): Reading[] {
  return reports
    .filter((r) => r.kind === 'pool' && (pool === undefined || r.name === pool))
    .map((r) => ({
      subject: `pool/${r.name}`,
      value: r.moves.length,
      summary:
        `pool ${r.name}: ${r.members} members on ${r.zonesUsed} zone(s) and ${r.nodesUsed} node(s); ` +
        `${r.moves.length} migration(s) would spread it well`,
      labels: { pool: r.name },
    }));
}

const poolSpread: AlertKind = {
  needs: 'cluster',
  thresholds: (rule) => ({
    above: 1,
    resolveBelow: 1,
    forSeconds: (rule as RuleOf<'pool-spread'>).forSeconds,
  }),
  read: (rule, facts) => poolSpreadReadings(facts.spread, (rule as RuleOf<'pool-spread'>).pool),
};

export const alertKinds: Record<AlertRuleKind, AlertKind> = {
  'node-cpu': nodeKind('cpu'),
  'node-memory': nodeKind('memory'),
  'node-disk': nodeKind('disk'),
  'container-memory': containerMemory,
  'manager-stalled': managerStalled,
  'saga-attention': sagaAttention,
  'pool-spread': poolSpread,
};

export function thresholdsOf(rule: AlertRule): Thresholds {
  return alertKinds[rule.kind].thresholds(rule);
}

/**
 * The readings of one rule that matter: those at or above its resolve value. A subject left out is
 * below it, so a firing alert on it resolves; this keeps a 10,000-container reading small.
 */
export function readingsOf(rule: AlertRule, facts: AlertFacts): Reading[] {
  const { resolveBelow } = thresholdsOf(rule);
  return alertKinds[rule.kind].read(rule, facts).filter((r) => r.value >= resolveBelow);
}
