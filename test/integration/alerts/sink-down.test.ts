// A webhook that is down for two minutes (ALERTS_SINK_DOWN_SECONDS, default 120) while an alert
// fires and resolves: the e-mail sink is not held up, and once the webhook is back it gets the
// firing and then the resolved notification, each exactly once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { alertsInputOf, alertsViewQuery, ensureAlertsWorkflow } from '../../../src/alerts';
import { parseConfig } from '../../../src/config';
import { createActivities } from '../../../worker/create-worker';
import { connectTestEnv, createTestWorker, uniqueTaskQueue } from '../../support/temporal';
import { startTestSim, type TestSim } from '../../support/sim';
import { labScope } from '../../support/saga-env';
import {
  eventually,
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../../support/alert-receivers';
import { srvPx2MemoryRule } from './support';

const DOWN_SECONDS = Number(process.env.ALERTS_SINK_DOWN_SECONDS ?? 120);

let env: TestWorkflowEnvironment;
let sim: TestSim;
let hook: WebhookReceiver;
let smtp: SmtpReceiver;
let worker: Worker | undefined;
let running: Promise<void> | undefined;

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestSim();
  hook = await startWebhookReceiver();
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await hook?.close();
  await smtp?.close();
  await sim?.stop();
  await env?.teardown();
});

describe('a sink that is down', { timeout: (DOWN_SECONDS + 180) * 1000 }, () => {
  it(`gets the alert once when it is back after ${DOWN_SECONDS} s, and holds up no other sink`, async () => {
    const { above, resolveBelow, pushMemory, calm } = await srvPx2MemoryRule(sim);
    const cluster = `down-${randomUUID().slice(0, 6)}`;
    const config = parseConfig(
      [
        'alerts:',
        '  evaluateSeconds: 1',
        // Short retries, so the test sees many failed attempts in the window and the return soon.
        '  delivery: { initialSeconds: 1, maximumSeconds: 5, timeoutSeconds: 5 }',
        '  sinks:',
        `    hook: { type: webhook, url: "${hook.url}" }`,
        `    mail: { type: smtp, host: ${smtp.host}, port: ${smtp.port}, from: autopilot@lab.test, to: [ops@lab.test] }`,
        '  rules:',
        `    - { name: node-mem, kind: node-memory, above: ${above}, resolveBelow: ${resolveBelow}, forSeconds: 1 }`,
        '',
      ].join('\n'),
      {},
    );
    const taskQueue = uniqueTaskQueue('alerts-down');
    worker = await createTestWorker(env, {
      taskQueue,
      activities: createActivities({
        taskQueue,
        pve: sim.pve,
        scope: labScope,
        vmidQuarantineMinutes: 10,
        alertSinks: config.alerts.sinks,
      }),
    });
    running = worker.run();
    const { workflowId } = await ensureAlertsWorkflow(env.client, {
      taskQueue,
      input: alertsInputOf(cluster, config.alerts),
    });
    const handle = env.client.workflow.getHandle(workflowId);
    const view = () => handle.query(alertsViewQuery);
    await eventually('a first evaluation', async () => (await view()).evaluations >= 1);

    await hook.down();
    const downAt = Date.now();
    await pushMemory();
    await eventually('the firing e-mail', () => smtp.mails.length >= 1);
    await calm();
    await eventually('the resolved e-mail', () => smtp.mails.length >= 2);
    expect((await view()).pending).toMatchObject({ hook: 2, mail: 0 });

    await new Promise((r) => setTimeout(r, Math.max(0, downAt + DOWN_SECONDS * 1000 - Date.now())));
    expect(hook.calls).toEqual([]);
    expect((await view()).pending.hook).toBe(2);
    await hook.up();
    const upAt = Date.now();

    await eventually('both notifications at the webhook', () => hook.calls.length >= 2, 60_000);
    // A few more retry intervals and evaluations: nothing is sent a second time.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(hook.calls.map((c) => c.body.status)).toEqual(['firing', 'resolved']);
    expect(new Set(hook.calls.map((c) => c.key)).size).toBe(2);
    expect(hook.calls[0]!.at - upAt).toBeLessThan(15_000);
    expect(smtp.mails).toHaveLength(2);
    expect((await view()).pending).toMatchObject({ hook: 0, mail: 0 });
    await handle.terminate('test over');
  });
});
