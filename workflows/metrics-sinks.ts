// What workflows tell the worker's Prometheus metrics: saga outcomes, the manager's new decisions
// and cycle durations. Sinks run in the worker process and are not called on replay, so nothing is
// written to history and a run replayed on another worker is not counted twice; each worker counts
// what its own workflow tasks did, and the sum over workers is the total.
import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { AutomationLevel, OperationKind, Outcome } from '../src/domain';

export interface NewDecision {
  rule: string;
  /** The level it was taken at: recommend (waits for approval) or auto (started). */
  automation: AutomationLevel;
}

export interface MetricsSinks extends Sinks {
  metrics: {
    sagaEnded(operation: OperationKind, outcome: Outcome): void;
    decisionsMade(decisions: NewDecision[]): void;
    cycleEnded(durationMs: number): void;
  };
}

export const metrics = proxySinks<MetricsSinks>().metrics;
