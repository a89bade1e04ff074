// The alerts' state machine: readings in, alert states and notifications out. Pure and plain JSON,
// so the alerts workflow keeps it in its history and carries it through continue-as-new.
//   absent ──value ≥ above──▶ pending ──held forSeconds──▶ firing ──value < resolveBelow──▶ resolved
// One firing per rule and subject until it resolves (de-duplication); each firing and each of its
// events has a key that stays the same across retries, so a sink can tell a resend from a new alert.
import { thresholdsOf, type Reading } from './kinds';
import type { AlertRule } from './schema';

/** The sinks as the workflow knows them: names and timing, never addresses or credentials. */
export interface SinkRef {
  name: string;
  type: 'webhook' | 'alertmanager' | 'smtp';
  /** Alertmanager: a firing alert is re-posted this often. */
  resendSeconds?: number;
}

export interface SubjectState {
  /** Epoch ms since the value has been at or above `above`. */
  since: number;
  firing: boolean;
  /** Epoch ms; set once firing. */
  firedAt?: number;
  value: number;
  summary: string;
  labels: Record<string, string>;
  /** Per sink: when this firing was last sent and how many times. */
  sent: Record<string, { at: number; count: number }>;
}

export interface RuleState {
  subjects: Record<string, SubjectState>;
}

export interface AlertEvent {
  at: number;
  rule: string;
  subject: string;
  status: 'firing' | 'resolved';
  severity: string;
  summary: string;
}

export interface AlertsCore {
  rules: Record<string, RuleState>;
  /** The last 50 fired/resolved events, newest last. */
  events: AlertEvent[];
}

export interface Notification {
  /** Same for every attempt at one event of one firing to one sink: the idempotency key. */
  key: string;
  /** Identifies the firing (rule, subject, start) across its events: the de-duplication key. */
  fingerprint: string;
  event: 'firing' | 'repeat' | 'resolved';
  status: 'firing' | 'resolved';
  cluster: string;
  rule: string;
  kind: string;
  severity: string;
  subject: string;
  summary: string;
  value: number;
  labels: Record<string, string>;
  firedAt: number;
  resolvedAt?: number;
}

export interface Delivery {
  sink: string;
  notification: Notification;
}

export const MAX_EVENTS = 50;

export function emptyAlertsCore(): AlertsCore {
  return { rules: {}, events: [] };
}

export interface EvaluateInput {
  core: AlertsCore;
  cluster: string;
  rules: readonly AlertRule[];
  sinks: readonly SinkRef[];
  /** By rule name; a rule missing here could not be read this time and keeps its state. */
  readings: Readonly<Record<string, Reading[]>>;
  now: number;
}

export function evaluateAlerts(input: EvaluateInput): { core: AlertsCore; deliveries: Delivery[] } {
  const { cluster, sinks, now } = input;
  const deliveries: Delivery[] = [];
  const events = [...input.core.events];
  const rules: Record<string, RuleState> = {};
  for (const rule of input.rules) {
    const before = input.core.rules[rule.name] ?? { subjects: {} };
    const readings = input.readings[rule.name];
    if (readings === undefined) {
      rules[rule.name] = before;
      continue;
    }
    const { above, resolveBelow, forSeconds } = thresholdsOf(rule);
    const routes = sinks.filter((s) => rule.sinks === undefined || rule.sinks.includes(s.name));
    const bySubject = new Map(readings.map((r) => [r.subject, r]));
    const subjects: Record<string, SubjectState> = {};
    const notify = (subject: string, s: SubjectState, event: Notification['event'], sink: SinkRef) => {
      const fingerprint = `${cluster}/${rule.name}/${subject}/${s.firedAt ?? now}`;
      const count = (s.sent[sink.name]?.count ?? 0) + 1;
      const suffix = event === 'repeat' ? `repeat-${count}` : event;
      deliveries.push({
        sink: sink.name,
        notification: {
          key: `${fingerprint}/${suffix}/${sink.name}`,
          fingerprint,
          event,
          status: event === 'resolved' ? 'resolved' : 'firing',
          cluster,
          rule: rule.name,
          kind: rule.kind,
          severity: rule.severity,
          subject,
          summary: s.summary,
          value: s.value,
          labels: s.labels,
          firedAt: s.firedAt ?? now,
          ...(event === 'resolved' ? { resolvedAt: now } : {}),
        },
      });
      s.sent = { ...s.sent, [sink.name]: { at: now, count } };
    };
    const record = (subject: string, s: SubjectState, status: AlertEvent['status']) =>
      events.push({ at: now, rule: rule.name, subject, status, severity: rule.severity, summary: s.summary });

    for (const [subject, previous] of Object.entries(before.subjects)) {
      const reading = bySubject.get(subject);
      if (previous.firing && (reading === undefined || reading.value < resolveBelow)) {
        const s = { ...previous, ...(reading ? { value: reading.value, summary: reading.summary } : {}) };
        if (!reading) s.summary = `${previous.summary}: back to normal`;
        for (const sink of routes) notify(subject, s, 'resolved', sink);
        record(subject, s, 'resolved');
      }
    }
    for (const reading of readings) {
      const previous = before.subjects[reading.subject];
      const base = { value: reading.value, summary: reading.summary, labels: reading.labels };
      if (previous?.firing) {
        if (reading.value < resolveBelow) continue; // resolved above
        const s: SubjectState = { ...previous, ...base };
        for (const sink of routes) {
          const every = repeatEvery(rule, sink);
          const last = s.sent[sink.name];
          // A sink added while the alert fires gets it as a first notification.
          if (last === undefined) notify(reading.subject, s, 'firing', sink);
          else if (every > 0 && now - last.at >= every * 1000) notify(reading.subject, s, 'repeat', sink);
        }
        subjects[reading.subject] = s;
        continue;
      }
      if (reading.value < above) continue; // below the firing value: not even pending
      const since = previous?.since ?? now;
      const s: SubjectState = { since, firing: false, sent: {}, ...base };
      if (now - since >= forSeconds * 1000) {
        s.firing = true;
        s.firedAt = now;
        for (const sink of routes) notify(reading.subject, s, 'firing', sink);
        record(reading.subject, s, 'firing');
      }
      subjects[reading.subject] = s;
    }
    rules[rule.name] = { subjects };
  }
  return { core: { rules, events: events.slice(-MAX_EVENTS) }, deliveries };
}

/** Seconds between sends of a firing alert to a sink; 0: never again until it resolves. */
function repeatEvery(rule: AlertRule, sink: SinkRef): number {
  const repeat = rule.repeatSeconds;
  if (sink.type !== 'alertmanager' || sink.resendSeconds === undefined) return repeat;
  return repeat > 0 ? Math.min(repeat, sink.resendSeconds) : sink.resendSeconds;
}

/** The alerts firing now, for `pve-autopilot alerts`. */
export function firingAlerts(
  core: AlertsCore,
  rules: readonly AlertRule[],
): Array<{
  rule: string;
  severity: string;
  subject: string;
  firedAt: number;
  value: number;
  summary: string;
}> {
  return rules.flatMap((rule) =>
    Object.entries(core.rules[rule.name]?.subjects ?? {})
      .filter(([, s]) => s.firing)
      .map(([subject, s]) => ({
        rule: rule.name,
        severity: rule.severity,
        subject,
        firedAt: s.firedAt ?? s.since,
        value: s.value,
        summary: s.summary,
      })),
  );
}
