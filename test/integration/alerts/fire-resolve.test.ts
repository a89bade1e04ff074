// A node pushed over its memory threshold in pve-sim fires one alert to the webhook and one e-mail
// to the SMTP receiver, nothing more while it lasts, and one "resolved" of each once it falls back.
// Alertmanager (an HTTP listener on /api/v2/alerts) gets the same alert re-posted while it fires.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { alertsInputOf, alertsViewQuery, ensureAlertsWorkflow, emailMessageId } from '../../../src/alerts';
import { parseConfig } from '../../../src/config';
import { createActivities } from '../../../worker/create-worker';
import { connectTestEnv, createTestWorker, expectReplays, uniqueTaskQueue } from '../../support/temporal';
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

interface AmAlert {
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

let env: TestWorkflowEnvironment;
let sim: TestSim;
let hook: WebhookReceiver;
let alertmanager: WebhookReceiver;
let smtp: SmtpReceiver;
let worker: Worker | undefined;
let running: Promise<void> | undefined;

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestSim();
  hook = await startWebhookReceiver();
  alertmanager = await startWebhookReceiver();
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await hook?.close();
  await alertmanager?.close();
  await smtp?.close();
  await sim?.stop();
  await env?.teardown();
});

describe('alerts on node memory', { timeout: 180_000 }, () => {
  it('fire once to the webhook and by e-mail, and resolve once when memory falls back', async () => {
    const { above, resolveBelow, pushMemory, calm } = await srvPx2MemoryRule(sim);
    const cluster = `alerts-${randomUUID().slice(0, 6)}`;
    const config = parseConfig(
      [
        'alerts:',
        '  evaluateSeconds: 1',
        '  sinks:',
        `    hook: { type: webhook, url: "${hook.url}" }`,
        `    am: { type: alertmanager, url: "${new URL(alertmanager.url).origin}", resendSeconds: 2 }`,
        `    mail: { type: smtp, host: ${smtp.host}, port: ${smtp.port}, from: autopilot@lab.test, to: [ops@lab.test] }`,
        '  rules:',
        `    - { name: node-mem, kind: node-memory, above: ${above}, resolveBelow: ${resolveBelow}, forSeconds: 2, severity: critical }`,
        '',
      ].join('\n'),
      {},
    );
    const taskQueue = uniqueTaskQueue('alerts');
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
      // A few evaluations per run, so the alert state crosses several continue-as-new hand-overs.
      input: { ...alertsInputOf(cluster, config.alerts), iterationsPerRun: 4 },
    });
    const handle = env.client.workflow.getHandle(workflowId);
    const view = () => handle.query(alertsViewQuery);

    await eventually('three quiet evaluations', async () => (await view()).evaluations >= 3);
    expect(hook.calls).toEqual([]);
    expect(smtp.mails).toEqual([]);

    await pushMemory();
    await eventually(
      'the firing alert at both sinks',
      () => hook.calls.length >= 1 && smtp.mails.length >= 1,
    );
    const fired = hook.calls[0]!;
    expect(fired.body).toMatchObject({
      status: 'firing',
      event: 'firing',
      cluster,
      rule: 'node-mem',
      kind: 'node-memory',
      severity: 'critical',
      subject: 'srv-px2',
      labels: { node: 'srv-px2' },
    });
    expect(fired.body.value as number).toBeGreaterThanOrEqual(above);
    expect(fired.key).toBe(fired.body.key);
    const mail = smtp.mails[0]!;
    expect(mail.subject).toMatch(/^\[pve-autopilot\] FIRING critical node-mem: node srv-px2 memory at /);
    expect(mail.key).toBe(String(fired.body.key).replace(/\/hook$/, '/mail'));
    expect(mail.messageId).toBe(emailMessageId({ key: mail.key } as Parameters<typeof emailMessageId>[0]));
    expect((await view()).firing).toMatchObject([{ rule: 'node-mem', subject: 'srv-px2' }]);

    // Still over: more evaluations send nothing more (one firing, no repeat configured).
    const after = (await view()).evaluations;
    await eventually('five more evaluations', async () => (await view()).evaluations >= after + 5);
    expect(hook.calls).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    // Alertmanager is re-posted the same alert (same labels) every resendSeconds while it fires.
    const posted = alertmanager.calls.map((c) => ({ path: c.path, alerts: c.body as unknown as AmAlert[] }));
    expect(posted.length).toBeGreaterThanOrEqual(2);
    for (const { path, alerts } of posted) {
      expect(path).toBe('/api/v2/alerts');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        labels: {
          alertname: 'node-mem',
          severity: 'critical',
          cluster,
          kind: 'node-memory',
          subject: 'srv-px2',
          source: 'pve-autopilot',
          node: 'srv-px2',
        },
        startsAt: fired.body.firedAt,
      });
      expect(Date.parse(alerts[0]!.endsAt)).toBeGreaterThan(Date.parse(alerts[0]!.startsAt));
    }

    await calm();
    await eventually(
      'the resolved alert at both sinks',
      () => hook.calls.length >= 2 && smtp.mails.length >= 2,
    );
    const resolved = hook.calls[1]!;
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      event: 'resolved',
      fingerprint: fired.body.fingerprint,
    });
    expect(smtp.mails[1]!.subject).toMatch(/^\[pve-autopilot\] RESOLVED critical node-mem:/);
    await eventually('the resolved alert at Alertmanager', () =>
      alertmanager.calls.some(
        (c) => (c.body as unknown as AmAlert[])[0]?.endsAt === resolved.body.resolvedAt,
      ),
    );
    const last = (await view()).evaluations;
    await eventually('three more evaluations', async () => (await view()).evaluations >= last + 3);
    expect(hook.calls).toHaveLength(2);
    expect(smtp.mails).toHaveLength(2);
    const final = await view();
    expect(final.firing).toEqual([]);
    expect(final.recent.map((e) => e.status)).toEqual(['firing', 'resolved']);
    // Each sink has its own queue, so the two sinks' sends interleave in any order.
    const hookAndMail = final.deliveries.filter((d) => d.sink !== 'am');
    expect(hookAndMail.map((d) => `${d.sink}:${d.status}`).sort()).toEqual([
      'hook:delivered',
      'hook:delivered',
      'mail:delivered',
      'mail:delivered',
    ]);
    expect(new Set(hookAndMail.map((d) => d.key)).size).toBe(4);
    // The run answering now was continued from an earlier one: the state crossed a hand-over.
    const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.continuedExecutionRunId).toBeTruthy();
    await handle.terminate('test over');
    await expectReplays(handle);
  });
});
