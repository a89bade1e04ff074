// The worker process: loads the config (file + environment), installs the runtime (JSON logs, the
// SDK's metrics), connects to Temporal and Proxmox, serves /metrics (ours and the SDK's), polls the
// task queue, and drains in-flight activities on SIGINT/SIGTERM. A bad config exits 2 before anything connects. With a `clusters:`
// list it runs one Worker per cluster, each on that cluster's task queue with its own Proxmox
// client and scope, over one connection and one workflow bundle.
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, Runtime, type Worker } from '@temporalio/worker';
import {
  clusterConnectionOf,
  clustersOf,
  ConfigError,
  loadConfig,
  managedScopeOf,
  spreadReportsOf,
} from '../src/config';
import { createPveClient, type PveClient } from '../src/proxmox';
import { createLogger, PinoTemporalLogger } from './logger';
import { connectWithDeadline } from './connect';
import { createWorker, workflowsPath } from './create-worker';
import { startAlerts } from './alerts';
import { OrchestratorMetrics } from '../src/metrics/orchestrator-metrics';
import { createMetricsReader } from './metrics-reader';
import { freeLoopbackPort, parseMetricsAddress, startMetricsServer } from './metrics-server';

const log = createLogger();

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  const config = await loadConfig({ path: values.config, env: process.env });
  const settings = config.temporal;
  // Every cluster's connection is checked before anything connects: a bad one names its cluster.
  const clusters = clustersOf(config).map((c) => ({ ...c, connection: clusterConnectionOf(c) }));
  const metricsAddress = process.env.METRICS_ADDRESS ?? '127.0.0.1:9464';
  const metricsBind = metricsAddress === 'off' ? null : parseMetricsAddress(metricsAddress);
  // The SDK's exporter listens on loopback only; our server on metricsAddress serves its text too.
  const sdkMetricsPort = metricsBind ? await freeLoopbackPort() : null;
  Runtime.install({
    logger: new PinoTemporalLogger(log),
    telemetryOptions: {
      logging: { forward: {}, filter: 'WARN' },
      metrics:
        sdkMetricsPort === null ? undefined : { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } },
    },
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const connection = await connectWithDeadline(settings, {
    deadlineMs: Number(process.env.TEMPORAL_CONNECT_TIMEOUT_MS ?? 60_000),
    onRetry: (attempt, err) =>
      log.warn({ attempt, address: settings.address }, `waiting for Temporal: ${err.message}`),
  });
  // A bundle built ahead (bundleWorkflowCode) starts the worker in a second instead of several;
  // several clusters share one bundle built here.
  const workflowBundle = process.env.WORKFLOW_BUNDLE_PATH
    ? { codePath: process.env.WORKFLOW_BUNDLE_PATH }
    : clusters.length > 1
      ? { code: (await bundleWorkflowCode({ workflowsPath, logger: new PinoTemporalLogger(log) })).code }
      : undefined;
  const metrics = new OrchestratorMetrics();
  const metricsServer = metricsBind
    ? await startMetricsServer(metricsBind, {
        metrics,
        sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
        refresh: createMetricsReader({
          connection,
          namespace: settings.namespace,
          clusters: clusters.map((c) => c.name),
          metrics,
          onProblem: (cluster, problem) =>
            problem === null
              ? log.info({ cluster }, 'metrics: reading the cluster manager again')
              : log.warn({ cluster }, `metrics: ${problem}`),
        }),
      })
    : null;
  const clients: PveClient[] = [];
  const workers: Worker[] = [];
  for (const cluster of clusters) {
    const pve = createPveClient(cluster.connection);
    clients.push(pve);
    workers.push(
      await createWorker({
        connection,
        namespace: settings.namespace,
        taskQueue: cluster.taskQueue,
        pve,
        scope: managedScopeOf(cluster.config),
        vmidQuarantineMinutes: cluster.config.container.vmidQuarantineMinutes,
        alertSinks: config.alerts.sinks,
        spreadReports: (snapshot) => spreadReportsOf(cluster.config, snapshot),
        metrics: { registry: metrics, cluster: cluster.name },
        workflowBundle,
      }),
    );
    log.info(
      {
        address: settings.address,
        namespace: settings.namespace,
        cluster: cluster.name,
        taskQueue: cluster.taskQueue,
        proxmox: pve.describe(),
        metricsAddress,
      },
      'worker polling',
    );
  }
  await startAlerts({ connection, namespace: settings.namespace, config, clusters, log });
  try {
    // One worker failing stops the others, so the process exits and its supervisor restarts it whole.
    await Promise.all(
      workers.map((w) =>
        w.run().catch((err: unknown) => {
          for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
          throw err;
        }),
      ),
    );
  } finally {
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    await connection.close();
    for (const pve of clients) await pve.close();
  }
  log.info('worker stopped');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    log.fatal(err.message);
    process.exitCode = 2;
    return;
  }
  log.fatal({ err }, err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
