// What each sink receives for one notification: the webhook's JSON body, Alertmanager's
// postable alert, and the e-mail's subject, text and Message-ID. Pure, so tests read them exactly.
import type { Notification } from './evaluate';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export interface WebhookBody {
  version: 1;
  /** The same on every attempt at this notification: receivers drop a repeat of a key they saw. */
  key: string;
  /** The same for every notification of one firing (firing, repeats, resolved). */
  fingerprint: string;
  event: Notification['event'];
  status: Notification['status'];
  cluster: string;
  rule: string;
  kind: string;
  severity: string;
  subject: string;
  summary: string;
  value: number;
  labels: Record<string, string>;
  firedAt: string;
  resolvedAt?: string;
}

export function webhookBody(n: Notification): WebhookBody {
  return {
    version: 1,
    key: n.key,
    fingerprint: n.fingerprint,
    event: n.event,
    status: n.status,
    cluster: n.cluster,
    rule: n.rule,
    kind: n.kind,
    severity: n.severity,
    subject: n.subject,
    summary: n.summary,
    value: Math.round(n.value * 100) / 100,
    labels: n.labels,
    firedAt: new Date(n.firedAt).toISOString(),
    ...(n.resolvedAt === undefined ? {} : { resolvedAt: new Date(n.resolvedAt).toISOString() }),
  };
}

/**
 * One alert of Alertmanager's `POST /api/v2/alerts` body. Its labels identify the alert (Alertmanager
 * de-duplicates on them), so they hold the rule and subject but nothing that changes while it fires.
 * A firing alert ends at `now + 4 × resend` unless re-posted, as Prometheus does.
 */
export function alertmanagerAlert(
  n: Notification,
  now: number,
  resendSeconds: number,
): { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string } {
  return {
    labels: {
      alertname: n.rule,
      severity: n.severity,
      cluster: n.cluster,
      kind: n.kind,
      subject: n.subject,
      source: 'pve-autopilot',
      ...n.labels,
    },
    annotations: {
      summary: n.summary,
      value: String(Math.round(n.value * 100) / 100),
      fingerprint: n.fingerprint,
    },
    startsAt: new Date(n.firedAt).toISOString(),
    endsAt: new Date(n.resolvedAt ?? now + 4 * resendSeconds * 1000).toISOString(),
  };
}

export function emailSubject(n: Notification): string {
  const what = n.status === 'resolved' ? 'RESOLVED' : n.event === 'repeat' ? 'STILL FIRING' : 'FIRING';
  return `[pve-autopilot] ${what} ${n.severity} ${n.rule}: ${n.summary} (cluster ${n.cluster})`;
}

export function emailText(n: Notification): string {
  const lines = [
    `${n.status === 'resolved' ? 'Resolved' : 'Firing'}: ${n.summary}`,
    '',
    `rule:      ${n.rule} (${n.kind}, ${n.severity})`,
    `cluster:   ${n.cluster}`,
    `subject:   ${n.subject}`,
    `value:     ${Math.round(n.value * 100) / 100}`,
    `fired at:  ${new Date(n.firedAt).toISOString()}`,
    ...(n.resolvedAt === undefined ? [] : [`resolved:  ${new Date(n.resolvedAt).toISOString()}`]),
    `key:       ${n.key}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The e-mail's Message-ID, the same on every attempt: a resend after a lost "250 OK" carries the
 * same id, which mail stores and clients use to fold duplicates.
 */
export function emailMessageId(n: Notification): string {
  const readable = n.key.replace(/[^A-Za-z0-9._-]+/g, '.').slice(0, 120);
  return `<${readable}.${fnv1a(n.key)}@pve-autopilot>`;
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
