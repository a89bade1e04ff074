// The worker process: installs the runtime (JSON logs, Prometheus metrics), connects to Temporal,
// polls the pve-autopilot task queue, and drains in-flight activities on SIGINT/SIGTERM.
import { Runtime } from '@temporalio/worker';
import { createLogger, PinoTemporalLogger } from './logger';
import { connectWithDeadline } from './connect';
import { createWorker } from './create-worker';
import { temporalSettingsFromEnv } from './settings';

const log = createLogger();

async function main(): Promise<void> {
  const settings = temporalSettingsFromEnv(process.env);
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
  });
  log.info(
    {
      address: settings.address,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      metricsAddress,
    },
    'worker polling',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  log.info('worker stopped');
}

main().catch((err: unknown) => {
  log.fatal({ err }, err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
