// Keeps one alerts workflow per cluster running with the config's rules: the worker calls this at
// start, so alerts are evaluated whenever a worker runs, without a command to remember. Signal-
// with-start is atomic on the server: several workers starting at once make one workflow, and each
// hands it its config (the same config, on a healthy deployment).
import type { Client } from '@temporalio/client';
import { alertsWorkflowId, type AlertsInput } from './input';
import { configureAlertsSignal } from './messages';

export async function ensureAlertsWorkflow(
  client: Client,
  opts: { taskQueue: string; input: AlertsInput },
): Promise<{ workflowId: string }> {
  const workflowId = alertsWorkflowId(opts.input.cluster);
  const { carried: _carried, cluster: _cluster, ...config } = opts.input;
  await client.workflow.signalWithStart('alertsWorkflow', {
    taskQueue: opts.taskQueue,
    workflowId,
    args: [opts.input],
    signal: configureAlertsSignal,
    signalArgs: [config],
    staticSummary: `alerts of cluster ${opts.input.cluster}: ${opts.input.rules.length} rule(s)`,
  });
  return { workflowId };
}
