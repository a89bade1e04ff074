// The worker's Temporal settings from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...).
import { DEFAULT_TASK_QUEUE, type TemporalSettings } from '../src/temporal/settings';

export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv): TemporalSettings {
  const tls =
    env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_KEY || env.TEMPORAL_TLS_CA
      ? {
          certFile: env.TEMPORAL_TLS_CERT,
          keyFile: env.TEMPORAL_TLS_KEY,
          caFile: env.TEMPORAL_TLS_CA,
          serverName: env.TEMPORAL_TLS_SERVER_NAME,
        }
      : undefined;
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    apiKey: env.TEMPORAL_API_KEY,
    tls,
  };
}
