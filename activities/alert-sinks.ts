// Sends one notification to one sink: an HTTP POST (webhook, Alertmanager) or one SMTP
// transaction. Throws on anything but success, so the activity's retry policy sends it again; a
// sink's refusal of the payload itself (a 4xx other than 408/429) is final.
import { ApplicationFailure } from '@temporalio/activity';
import nodemailer from 'nodemailer';
import { fetch } from 'undici';
import type { Notification } from '../src/alerts/evaluate';
import {
  IDEMPOTENCY_HEADER,
  alertmanagerAlert,
  emailMessageId,
  emailSubject,
  emailText,
  webhookBody,
} from '../src/alerts/payloads';
import type { SinkConfig } from '../src/alerts/schema';

export const AlertSinkRejected = 'AlertSinkRejected';

export async function sendToSink(sink: SinkConfig, n: Notification, timeoutMs: number): Promise<string> {
  switch (sink.type) {
    case 'webhook':
      return post(sink.url, webhookBody(n), { ...sink.headers, [IDEMPOTENCY_HEADER]: n.key }, timeoutMs);
    case 'alertmanager': {
      const url = `${sink.url.replace(/\/+$/, '')}/api/v2/alerts`;
      const body = [alertmanagerAlert(n, Date.now(), sink.resendSeconds)];
      return post(url, body, { [IDEMPOTENCY_HEADER]: n.key }, timeoutMs);
    }
    case 'smtp':
      return mail(sink, n, timeoutMs);
  }
}

async function post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = (await res.text()).slice(0, 200);
  if (res.ok) return `HTTP ${res.status}`;
  const message = `${new URL(url).origin} answered HTTP ${res.status}${text ? `: ${text}` : ''}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw ApplicationFailure.create({ type: AlertSinkRejected, message, nonRetryable: true });
  }
  throw new Error(message);
}

/**
 * One SMTP transaction. The message exists for the server only once it answered the final "." with
 * 250; a worker killed before that leaves nothing behind, and the retry sends it once. Killed after
 * the 250 but before Temporal recorded the result, the retry sends it again with the same
 * Message-ID: the one window where an e-mail can arrive twice (SMTP offers no idempotent send).
 */
async function mail(sink: Extract<SinkConfig, { type: 'smtp' }>, n: Notification, timeoutMs: number) {
  const transport = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    secure: sink.secure,
    ...(sink.username === undefined ? {} : { auth: { user: sink.username, pass: sink.password ?? '' } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: sink.from,
      to: sink.to,
      subject: emailSubject(n),
      text: emailText(n),
      messageId: emailMessageId(n),
      headers: { 'X-Pve-Autopilot-Key': n.key },
    });
    return `SMTP ${info.response}`;
  } catch (err) {
    // A permanent refusal (5xx: no such mailbox, sender refused) does not change with retries.
    const code = (err as { responseCode?: number }).responseCode;
    if (code !== undefined && code >= 500 && code < 600) {
      const message = `${sink.host} refused the message: ${(err as Error).message}`;
      throw ApplicationFailure.create({ type: AlertSinkRejected, message, nonRetryable: true });
    }
    throw err;
  } finally {
    transport.close();
  }
}
