// The worker process is SIGKILLed while it sends an alert: the webhook has the whole request and
// no answer yet, the SMTP server is in the middle of the transaction (before any message exists).
// Another worker takes over: the e-mail arrives exactly once; the webhook sees the request again
// with the same Idempotency-Key (HTTP's at-least-once boundary: the key lets it drop the resend),
// so there is one alert per sink.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { alertsViewQuery, alertsWorkflowId, emailMessageId, type Notification } from '../../../src/alerts';
import { connectTestEnv, uniqueTaskQueue } from '../../support/temporal';
import { startTestSim, type TestSim } from '../../support/sim';
import { startConfiguredWorkerProcess, type WorkerProcess } from '../../support/worker-process';
import { readmeArgs } from '../../support/readme-args';
import {
  eventually,
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../../support/alert-receivers';
import { srvPx2MemoryRule } from './support';

let env: TestWorkflowEnvironment;
let sim: TestSim;
let hook: WebhookReceiver;
let smtp: SmtpReceiver;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestSim();
  hook = await startWebhookReceiver();
  smtp = await startSmtpReceiver();
});
afterEach(async () => {
  await worker?.kill();
});
afterAll(async () => {
  await hook?.close();
  await smtp?.close();
  await sim?.stop();
  await env?.teardown();
});

/** `pve-autopilot <args>` as an operator runs it, on this test's config. */
function cli(configFile: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args, '--config', configFile],
      { env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function freshWorker(configFile: string): Promise<void> {
  await worker?.kill('SIGKILL');
  worker = startConfiguredWorkerProcess(configFile);
  await worker.ready;
}

// The killed attempts end by their start-to-close timeout (timeoutSeconds + 5 s) before the retry.
describe('an alert send survives its worker being SIGKILLed', { timeout: 240_000 }, () => {
  it('sends the e-mail once and the webhook one key', async () => {
    const { above, resolveBelow, pushMemory } = await srvPx2MemoryRule(sim);
    const cluster = `kill-${randomUUID().slice(0, 6)}`;
    const configFile = join(mkdtempSync(join(tmpdir(), 'alerts-kill-')), 'pve-autopilot.yaml');
    writeFileSync(
      configFile,
      [
        `cluster: { name: ${cluster} }`,
        `temporal: { taskQueue: ${uniqueTaskQueue('alerts-kill')} }`,
        'proxmox:',
        `  host: ${sim.sim.host}`,
        `  port: ${sim.sim.port}`,
        `  tokenId: "${sim.sim.token.id}"`,
        `  tokenSecret: ${sim.sim.token.secret}`,
        `  caFile: ${sim.sim.caFile}`,
        'alerts:',
        '  evaluateSeconds: 1',
        '  delivery: { initialSeconds: 1, maximumSeconds: 2, timeoutSeconds: 3 }',
        '  sinks:',
        `    hook: { type: webhook, url: "${hook.url}" }`,
        `    mail: { type: smtp, host: ${smtp.host}, port: ${smtp.port}, from: autopilot@lab.test, to: [ops@lab.test] }`,
        '  rules:',
        `    - { name: node-mem, kind: node-memory, above: ${above}, resolveBelow: ${resolveBelow}, forSeconds: 1 }`,
        '',
      ].join('\n'),
    );
    // The worker starts the alerts workflow itself, from its config.
    await freshWorker(configFile);
    const handle = env.client.workflow.getHandle(alertsWorkflowId(cluster));
    const view = () => handle.query(alertsViewQuery);
    await eventually(
      'a first evaluation',
      async () => (await view().catch(() => null))?.evaluations !== undefined,
    );
    await eventually('evaluations', async () => (await view()).evaluations >= 1);

    const heldHook = hook.holdNext();
    const heldMail = smtp.holdNext();
    await pushMemory();
    await Promise.all([heldHook.arrived, heldMail.arrived]);
    // Both sends are in flight in the worker: the webhook has the request, the SMTP server waits
    // at RCPT TO. Kill it there and start another.
    await freshWorker(configFile);
    heldHook.release();
    heldMail.release();

    await eventually(
      'the e-mail and the webhook resend',
      () => smtp.mails.length >= 1 && hook.calls.length >= 2,
      120_000,
    );
    // Later evaluations and retries send nothing more.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(smtp.mails).toHaveLength(1);
    expect(hook.calls).toHaveLength(2);
    const key = hook.calls[0]!.key;
    expect(hook.calls.map((c) => c.key)).toEqual([key, key]);
    expect(hook.calls.map((c) => c.body.key)).toEqual([key, key]);
    const mailKey = String(key).replace(/\/hook$/, '/mail');
    expect(smtp.mails[0]).toMatchObject({
      key: mailKey,
      messageId: emailMessageId({ key: mailKey } as Notification),
    });
    const final = await view();
    expect(final.firing).toMatchObject([{ rule: 'node-mem', subject: 'srv-px2' }]);
    expect(final.deliveries.map((d) => `${d.sink}:${d.status}`).sort()).toEqual([
      'hook:delivered',
      'mail:delivered',
    ]);

    // `pve-autopilot alerts` reads the same view from the workflow.
    const json = await cli(configFile, readmeArgs('npx pve-autopilot alerts --json'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      workflowId: `alerts-${cluster}`,
      running: true,
      view: { firing: [{ rule: 'node-mem', subject: 'srv-px2' }], recent: [{ status: 'firing' }] },
    });
    const text = await cli(configFile, readmeArgs('npx pve-autopilot alerts'));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Alerts of cluster ${cluster}: 1 firing`);
    expect(text.stdout).toMatch(/critical|warning/);
    expect(text.stdout).toContain('srv-px2');
    const other = join(mkdtempSync(join(tmpdir(), 'alerts-none-')), 'pve-autopilot.yaml');
    writeFileSync(other, 'cluster: { name: no-alerts-here }\n');
    const none = await cli(other, ['alerts', '--json']);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({
      workflowId: 'alerts-no-alerts-here',
      running: false,
      view: null,
    });
    await handle.terminate('test over');
  });
});
