// At worker start: make sure each cluster's alerts workflow runs with this config's rules (see
// src/alerts/start.ts). With no rules, a workflow left from an earlier config is told so and idles.
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { alertsInputOf, alertsWorkflowId, configureAlertsSignal, ensureAlertsWorkflow } from '../src/alerts';
import type { Config } from '../src/config';

export async function startAlerts(opts: {
  connection: NativeConnection;
  namespace: string;
  config: Config;
  clusters: ReadonlyArray<{ name: string; taskQueue: string }>;
  log: Logger;
}): Promise<void> {
  const client = new Client({ connection: opts.connection, namespace: opts.namespace });
  for (const cluster of opts.clusters) {
    const input = alertsInputOf(cluster.name, opts.config.alerts);
    try {
      if (input.rules.length > 0) {
        const { workflowId } = await ensureAlertsWorkflow(client, { taskQueue: cluster.taskQueue, input });
        opts.log.info({ cluster: cluster.name, workflowId, rules: input.rules.length }, 'alerts running');
      } else {
        const { cluster: _c, ...config } = input;
        await client.workflow
          .getHandle(alertsWorkflowId(cluster.name))
          .signal(configureAlertsSignal, config)
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }
    } catch (err) {
      // Alerts are not a reason to stop serving the sagas: the next worker start tries again.
      opts.log.error({ err, cluster: cluster.name }, 'could not start the alerts workflow');
    }
  }
}
