// The worker's side of workflows/metrics-sinks.ts: one set per Worker, so each count carries the
// cluster that Worker serves.
import type { InjectedSinks } from '@temporalio/worker';
import { OrchestratorMetrics } from '../src/metrics/orchestrator-metrics';
import type { MetricsSinks } from '../workflows/metrics-sinks';

export function metricsSinks(metrics: OrchestratorMetrics, cluster: string): InjectedSinks<MetricsSinks> {
  return {
    metrics: {
      sagaEnded: { fn: (_info, operation, outcome) => metrics.sagaEnded(cluster, operation, outcome) },
      decisionsMade: { fn: (_info, decisions) => metrics.decisionsMade(cluster, decisions) },
      cycleEnded: { fn: (_info, durationMs) => metrics.cycleEnded(cluster, durationMs) },
    },
  };
}

/** For Workers whose counts nobody reads (tests, benchmarks): the sinks exist, the counts stay here. */
export function unreadMetricsSinks(): InjectedSinks<MetricsSinks> {
  return metricsSinks(new OrchestratorMetrics(), '');
}
