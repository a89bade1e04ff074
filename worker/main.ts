// The worker process: loads the config (file + environment), installs the runtime (JSON logs,
// Prometheus metrics), connects to Temporal and Proxmox, polls the task queue, and drains in-flight
// activities on SIGINT/SIGTERM. A bad config exits 2 before anything connects.
import { parseArgs } from 'node:util';
import { Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig, managedScopeOf, proxmoxConnectionOf } from '../src/config';
import { createPveClient } from '../src/proxmox';
import { createLogger, PinoTemporalLogger } from './logger';
import { connectWithDeadline } from './connect';
import { createWorker } from './create-worker';

const log = createLogger();

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  const config = await loadConfig({ path: values.config, env: process.env });
  const settings = config.temporal;
  const pve = createPveClient(proxmoxConnectionOf(config));
  const metricsAddress = process.env.METRICS_ADDRESS ?? '127.0.0.1:9464';
  Runtime.install({
    logger: new PinoTemporalLogger(log),
    telemetryOptions: {
      logging: { forward: {}, filter: 'WARN' },
      metrics: metricsAddress === 'off' ? undefined : { prometheus: { bindAddress: metricsAddress } },
    },
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const connection = await connectWithDeadline(settings, {
    deadlineMs: Number(process.env.TEMPORAL_CONNECT_TIMEOUT_MS ?? 60_000),
    onRetry: (attempt, err) =>
      log.warn({ attempt, address: settings.address }, `waiting for Temporal: ${err.message}`),
  });
  const worker = await createWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    pve,
    scope: managedScopeOf(config),
    vmidQuarantineMinutes: config.container.vmidQuarantineMinutes,
    // A bundle built ahead (bundleWorkflowCode) starts the worker in a second instead of several.
    workflowBundle: process.env.WORKFLOW_BUNDLE_PATH
      ? { codePath: process.env.WORKFLOW_BUNDLE_PATH }
      : undefined,
  });
  log.info(
    {
      address: settings.address,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      proxmox: pve.describe(),
      metricsAddress,
    },
    'worker polling',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await pve.close();
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
