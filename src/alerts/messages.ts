// The alerts workflow's query and signal, shared by the workflow, the worker and the CLI.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AlertEvent } from './evaluate';
import type { AlertsInput, DeliveryRecord } from './input';

export interface FiringAlert {
  rule: string;
  severity: string;
  subject: string;
  firedAt: number;
  value: number;
  summary: string;
}

export interface AlertsView {
  cluster: string;
  evaluations: number;
  /** Epoch ms of the last evaluation, when there was one. */
  lastEvaluatedAt?: number;
  /** Why the last evaluation could not read everything, if it could not. */
  problems: string[];
  firing: FiringAlert[];
  /** Fired and resolved events, newest last (the last 50). */
  recent: AlertEvent[];
  /** Notifications waiting for their sink, per sink (a sink that is down keeps them here). */
  pending: Record<string, number>;
  /** The last 50 sends, newest last. */
  deliveries: DeliveryRecord[];
}

export const alertsViewQuery = defineQuery<AlertsView>('alertsView');
/** A worker that starts sends its config: the rules and sinks of the next evaluation. */
export const configureAlertsSignal =
  defineSignal<[Omit<AlertsInput, 'carried' | 'cluster'>]>('configureAlerts');
