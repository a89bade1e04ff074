// The alerts workflow's side effects: read what the rules measure (the cluster, the manager's last
// cycle, operations needing attention) and send one notification to one sink. Sink addresses and
// credentials live here, in the worker's config; the workflow only names the sink.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  alertKinds,
  readingsOf,
  type AlertFacts,
  type AttentionRun,
  type Reading,
} from '../src/alerts/kinds';
import type { Notification } from '../src/alerts/evaluate';
import type { AlertRule, SinkConfig } from '../src/alerts/schema';
import type { ClusterSnapshot } from '../src/domain';
import type { SpreadReport } from '../src/policy/spread';
import type { PveClient } from '../src/proxmox';
import { clusterManagerWorkflowId, managerStatusQuery } from '../workflows/messages';
import { sendToSink } from './alert-sinks';

export interface AlertActivityDeps {
  pve: PveClient;
  /** The `alerts.sinks` section of this worker's config. */
  sinks: Readonly<Record<string, SinkConfig>>;
  /** The spread plan of the cluster as this worker's config judges it (the pool-spread kind). */
  spreadReports?: (snapshot: ClusterSnapshot) => SpreadReport[];
}

export interface AlertReadings {
  at: number;
  /** By rule name; a rule whose facts could not be read is left out (and keeps its state). */
  readings: Record<string, Reading[]>;
  problems: string[];
}

const MANAGER_QUERY_DEADLINE_MS = 10_000;

export function createAlertActivities(deps: AlertActivityDeps) {
  return {
    async readAlerts(input: { cluster: string; rules: AlertRule[]; since: number }): Promise<AlertReadings> {
      const needs = new Set(input.rules.map((r) => alertKinds[r.kind].needs));
      const problems: string[] = [];
      const failed = new Set<string>();
      const attempt = async <T>(need: string, read: () => Promise<T>, fallback: T): Promise<T> => {
        if (!needs.has(need as never)) return fallback;
        try {
          return await read();
        } catch (err) {
          failed.add(need);
          problems.push(`${need}: ${err instanceof Error ? err.message : String(err)}`);
          return fallback;
        }
      };
      const snapshot = await attempt<ClusterSnapshot | null>(
        'cluster',
        () => deps.pve.clusterSnapshot(),
        null,
      );
      const managerObservedAt = await attempt('manager', () => managerObservedAtOf(input.cluster), null);
      const attention = await attempt('attention', () => attentionRuns(input.rules), []);
      const facts: AlertFacts = {
        now: Date.now(),
        snapshot,
        managerObservedAt,
        alertsSince: input.since,
        attention,
        spread:
          snapshot !== null && input.rules.some((r) => r.kind === 'pool-spread')
            ? (deps.spreadReports?.(snapshot) ?? [])
            : [],
      };
      const readings: Record<string, Reading[]> = {};
      for (const rule of input.rules) {
        if (!failed.has(alertKinds[rule.kind].needs)) readings[rule.name] = readingsOf(rule, facts);
      }
      return { at: facts.now, readings, problems };
    },

    async deliverAlert(input: {
      sink: string;
      notification: Notification;
      timeoutMs: number;
    }): Promise<string> {
      const sink = deps.sinks[input.sink];
      if (sink === undefined) {
        // Retried: another worker (or this one, restarted with a fixed config) may know the sink.
        throw ApplicationFailure.create({
          type: 'AlertSinkUnknown',
          message: `this worker's config has no alerts.sinks.${input.sink}`,
        });
      }
      return sendToSink(sink, input.notification, input.timeoutMs);
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;

/** When the manager last completed an observation; null when it never did or was never started. */
async function managerObservedAtOf(cluster: string): Promise<number | null> {
  const { client } = Context.current();
  try {
    const state = await client.withDeadline(Date.now() + MANAGER_QUERY_DEADLINE_MS, () =>
      client.workflow.getHandle(clusterManagerWorkflowId(cluster)).query(managerStatusQuery),
    );
    return state.lastObservation?.at ?? null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Operations of this task queue (this cluster) that ended needing attention within the lookback. */
async function attentionRuns(rules: AlertRule[]): Promise<AttentionRun[]> {
  const hours = Math.max(...rules.map((r) => (r.kind === 'saga-attention' ? r.lookbackHours : 0)));
  const { client, info } = Context.current();
  const after = new Date(Date.now() - hours * 3_600_000).toISOString();
  const query = `PveNeedsAttention = true AND TaskQueue = '${info.taskQueue}' AND CloseTime > '${after}'`;
  const runs: AttentionRun[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    const attrs = wf.searchAttributes as Record<string, unknown[] | undefined>;
    const operation = attrs.PveOperation?.[0];
    const vmid = attrs.PveVmid?.[0];
    runs.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      closedAt: wf.closeTime?.getTime() ?? Date.now(),
      ...(typeof operation === 'string' ? { operation } : {}),
      ...(typeof vmid === 'string' ? { vmid } : {}),
    });
    if (runs.length >= 200) break;
  }
  return runs;
}
