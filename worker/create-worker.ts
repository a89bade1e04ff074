// Builds the Worker from a connection and activity dependencies; shared by the worker process and
// the integration tests, so both run the same workflows with the same options.
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createSelfCheckActivities } from '../activities/self-check';
import { createProxmoxActivities } from '../activities/proxmox';
import { createAlertActivities } from '../activities/alerts';
import type { SinkConfig } from '../src/alerts/schema';
import type { ClusterSnapshot, ManagedScope } from '../src/domain';
import type { SpreadReport } from '../src/policy/spread';
import type { OrchestratorMetrics } from '../src/metrics/orchestrator-metrics';
import type { PveClient } from '../src/proxmox';
import { metricsSinks, unreadMetricsSinks } from './metrics-sinks';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export const sdkVersion: string = (
  createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string }
).version;

export interface ActivityDeps {
  taskQueue: string;
  pve: PveClient;
  scope: ManagedScope;
  vmidQuarantineMinutes: number;
  /** The config's alerts.sinks: where the alerts workflow's notifications go. */
  alertSinks?: Readonly<Record<string, SinkConfig>>;
  /** The pool-spread alert's judge: the spread plan under this cluster's config. */
  spreadReports?: (snapshot: ClusterSnapshot) => SpreadReport[];
  /** Where this Worker's counts go, labelled with its cluster; without it they are kept apart unseen. */
  metrics?: { registry: OrchestratorMetrics; cluster: string };
}

export interface WorkerDeps extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  /** A pre-built workflow bundle (tests build one once); otherwise workflowsPath is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSelfCheckActivities({ taskQueue: deps.taskQueue, sdkVersion }),
    ...createProxmoxActivities({
      pve: deps.pve,
      scope: deps.scope,
      vmidQuarantineMinutes: deps.vmidQuarantineMinutes,
      // The generator observes too; only the manager's observations are its cycles'.
      onObserved: ({ apiRequests, workflowType }) => {
        if (workflowType === 'clusterManagerWorkflow')
          deps.metrics?.registry.observed(deps.metrics.cluster, apiRequests);
      },
    }),
    ...createAlertActivities({
      pve: deps.pve,
      sinks: deps.alertSinks ?? {},
      ...(deps.spreadReports ? { spreadReports: deps.spreadReports } : {}),
    }),
  };
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath }),
    activities: createActivities(deps),
    // Always registered: the workflows call them, and an unregistered sink is an error in the log.
    sinks: deps.metrics ? metricsSinks(deps.metrics.registry, deps.metrics.cluster) : unreadMetricsSinks(),
    shutdownGraceTime: deps.shutdownGraceTime ?? '10 seconds',
  });
}
