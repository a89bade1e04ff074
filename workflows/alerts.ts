// alertsWorkflow: one per cluster (`alerts-<cluster>`), started by the worker. Every
// evaluateSeconds it reads the rules' facts (one activity), steps the alert state machine
// (src/alerts/evaluate.ts) and queues the notifications. Each sink has its own queue, sent in order
// by one activity at a time that retries without end: a sink that is down holds only its own
// queue, and gets every notification once it is back. The state lives in this workflow's history,
// so a worker that dies loses nothing and no evaluation is run twice by several workers.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities, AlertReadings } from '../activities/alerts';
import {
  emptyAlertsCore,
  evaluateAlerts,
  firingAlerts,
  type AlertsCore,
  type Notification,
} from '../src/alerts/evaluate';
import {
  parseAlertsInput,
  type AlertsCarried,
  type AlertsInput,
  type DeliveryRecord,
} from '../src/alerts/input';
import { alertsViewQuery, configureAlertsSignal, type AlertsView } from '../src/alerts/messages';
import { SagaFailureType } from './sagas/saga';

export const DEFAULT_EVALUATIONS_PER_RUN = 500;
const MAX_LOG = 50;

const reads = proxyActivities<AlertActivities>({
  // One read of the cluster and a query of the manager: quick, and the next evaluation tries again.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 3 },
});

export async function alertsWorkflow(raw: AlertsInput): Promise<void> {
  let input: AlertsInput;
  try {
    input = parseAlertsInput(raw);
  } catch (err) {
    throw ApplicationFailure.create({
      type: SagaFailureType.invalidInput,
      message: `invalid input: ${err instanceof Error ? err.message : String(err)}`,
      nonRetryable: true,
    });
  }
  const alerts = new Alerts(input);
  alerts.registerHandlers();
  await alerts.run();
}

class Alerts {
  private config: Omit<AlertsInput, 'carried' | 'cluster'>;
  private readonly cluster: string;
  private core: AlertsCore;
  private readonly since: number;
  private deliveryLog: DeliveryRecord[];
  private readonly queues: Record<string, Notification[]>;
  private readonly sending = new Set<string>();
  /** In all runs, for the view; `runEvaluations` counts this run's toward continue-as-new. */
  private evaluations: number;
  private runEvaluations = 0;
  private lastEvaluatedAt: number | undefined;
  private problems: string[] = [];
  private reconfigured = false;

  constructor(input: AlertsInput) {
    const { carried, cluster, ...config } = input;
    this.cluster = cluster;
    this.config = config;
    this.core = carried?.core ?? emptyAlertsCore();
    this.since = carried?.since ?? Date.now();
    this.deliveryLog = carried?.deliveryLog ?? [];
    this.queues = (carried?.queues ?? {}) as Record<string, Notification[]>;
    this.evaluations = carried?.evaluations ?? 0;
  }

  registerHandlers(): void {
    setHandler(alertsViewQuery, () => this.view());
    setHandler(configureAlertsSignal, (config) => {
      try {
        const parsed = parseAlertsInput({ ...config, cluster: this.cluster });
        const { carried: _carried, cluster: _cluster, ...next } = parsed;
        this.config = next;
        this.reconfigured = true;
      } catch (err) {
        // A signal cannot be refused; the config it came from was validated by the worker anyway.
        log.warn(`ignored an invalid alerts config: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  async run(): Promise<void> {
    const perRun = this.config.iterationsPerRun ?? DEFAULT_EVALUATIONS_PER_RUN;
    for (const sink of Object.keys(this.queues)) this.pump(sink);
    for (;;) {
      this.reconfigured = false;
      await this.evaluate();
      const due = this.runEvaluations >= perRun || workflowInfo().continueAsNewSuggested;
      // Continue-as-new only between sends: a send in flight belongs to this run, and handing it to
      // the next run would send it a second time.
      if (due && this.sending.size === 0) {
        await condition(allHandlersFinished);
        const carried: AlertsCarried = {
          core: this.core,
          since: this.since,
          deliveryLog: this.deliveryLog,
          queues: this.queues,
          evaluations: this.evaluations,
        };
        await continueAsNew<typeof alertsWorkflow>({ ...this.config, cluster: this.cluster, carried });
      }
      await condition(() => this.reconfigured, this.config.evaluateSeconds * 1000);
    }
  }

  private async evaluate(): Promise<void> {
    const { rules, sinks } = this.config;
    let result: AlertReadings;
    try {
      result = await reads.readAlerts({ cluster: this.cluster, rules, since: this.since });
    } catch (err) {
      this.problems = [`could not read: ${err instanceof Error ? err.message : String(err)}`];
      return;
    }
    this.problems = result.problems;
    this.evaluations++;
    this.runEvaluations++;
    this.lastEvaluatedAt = result.at;
    const { core, deliveries } = evaluateAlerts({
      core: this.core,
      cluster: this.cluster,
      rules,
      sinks,
      readings: result.readings,
      now: result.at,
    });
    this.core = core;
    for (const { sink, notification } of deliveries) {
      (this.queues[sink] ??= []).push(notification);
      this.pump(sink);
    }
  }

  /** Starts sending a sink's queue unless it is being sent already. */
  private pump(sink: string): void {
    if (this.sending.has(sink) || (this.queues[sink]?.length ?? 0) === 0) return;
    this.sending.add(sink);
    void this.drain(sink);
  }

  private async drain(sink: string): Promise<void> {
    const { initialSeconds, maximumSeconds, timeoutSeconds } = this.config.delivery;
    const sender = proxyActivities<AlertActivities>({
      startToCloseTimeout: timeoutSeconds * 1000 + 5000,
      // No maximumAttempts: a sink that is down is waited for, however long, so nothing is lost.
      retry: {
        initialInterval: initialSeconds * 1000,
        maximumInterval: maximumSeconds * 1000,
        backoffCoefficient: 2,
        nonRetryableErrorTypes: ['AlertSinkRejected'],
      },
    });
    const queue = this.queues[sink] ?? [];
    try {
      while (queue.length > 0) {
        const notification = queue[0] as Notification;
        let record: DeliveryRecord;
        try {
          const detail = await sender.deliverAlert({ sink, notification, timeoutMs: timeoutSeconds * 1000 });
          record = { key: notification.key, sink, status: 'delivered', at: Date.now(), detail };
        } catch (err) {
          // Only a sink's refusal of the payload ends here: retrying the same body cannot help.
          const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
          record = { key: notification.key, sink, status: 'rejected', at: Date.now(), detail };
          log.error(`alert ${notification.key} rejected by sink ${sink}: ${detail}`);
        }
        queue.shift();
        this.deliveryLog = [...this.deliveryLog, record].slice(-MAX_LOG);
      }
    } finally {
      this.sending.delete(sink);
    }
  }

  private view(): AlertsView {
    return {
      cluster: this.cluster,
      evaluations: this.evaluations,
      ...(this.lastEvaluatedAt === undefined ? {} : { lastEvaluatedAt: this.lastEvaluatedAt }),
      problems: this.problems,
      firing: firingAlerts(this.core, this.config.rules),
      recent: this.core.events,
      pending: Object.fromEntries(Object.entries(this.queues).map(([sink, q]) => [sink, q.length])),
      deliveries: this.deliveryLog,
    };
  }
}
