// The `alerts:` section: where notifications go (sinks) and when they are sent (rules). Every rule
// is a threshold with hysteresis: it fires once its value has stayed at or above `above` for
// `forSeconds`, and resolves when the value falls below `resolveBelow`.
import { z } from 'zod';
import {
  flag,
  integerBetween,
  matching,
  nonEmptyText,
  numberBetween,
  oneOf,
  positiveNumber,
  reject,
  section,
  whenFieldsValid,
} from '../config/fields';

const DAY_SECONDS = 86_400;
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const HTTP_URL = /^https?:\/\/[^\s]+$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

const sinkName = () => matching(NAME, 'a name of letters, digits, _ and -, up to 63');

const webhookSink = section({
  type: z.literal('webhook'),
  url: matching(HTTP_URL, 'an http:// or https:// URL'),
  /** Extra request headers, e.g. an Authorization for the receiver. */
  headers: z
    .record(z.string(), z.string(), { error: 'expected a mapping of header name to value' })
    .default({}),
});

const alertmanagerSink = section({
  type: z.literal('alertmanager'),
  /** Alertmanager's base URL; alerts go to <url>/api/v2/alerts. */
  url: matching(HTTP_URL, 'an http:// or https:// URL such as http://alertmanager:9093'),
  /**
   * Alertmanager expects an active alert to be re-sent (every 30 s to 3 min) or it ends it itself
   * after its resolve_timeout: a firing alert is posted again this often.
   */
  resendSeconds: positiveNumber(3600).default(60),
});

const smtpSink = section({
  type: z.literal('smtp'),
  host: nonEmptyText('an SMTP server host name'),
  port: integerBetween(1, 65_535).default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  secure: flag().default(false),
  username: nonEmptyText('an SMTP user name').optional(),
  password: z.string({ error: 'expected a password' }).min(1, { error: 'expected a password' }).optional(),
  from: matching(EMAIL, 'an e-mail address'),
  to: z
    .array(matching(EMAIL, 'an e-mail address'), { error: 'expected a list of e-mail addresses' })
    .min(1, { error: 'expected at least one e-mail address' }),
});

export const sinkSchema = z.discriminatedUnion('type', [webhookSink, alertmanagerSink, smtpSink], {
  error: 'expected a sink with type webhook, alertmanager or smtp',
});

/** What every rule has; `above`/`resolveBelow` are percents for the node/container kinds. */
const common = {
  name: sinkName(),
  severity: oneOf(['info', 'warning', 'critical']).default('warning'),
  /** Sink names; absent: every sink. */
  sinks: z.array(sinkName(), { error: 'expected a list of sink names' }).optional(),
  /** A firing alert is sent again this often while it lasts; 0: only when it fires and resolves. */
  repeatSeconds: numberBetween(0, 7 * DAY_SECONDS).default(0),
};

const percentRule = <K extends string>(kind: K, defaultAbove: number) =>
  section({
    ...common,
    kind: z.literal(kind),
    above: numberBetween(0, 100).default(defaultAbove),
    /** Default: 5 points under `above`. */
    resolveBelow: numberBetween(0, 100).optional(),
    forSeconds: numberBetween(0, DAY_SECONDS).default(60),
  });

const ruleSchemaRaw = z.discriminatedUnion(
  'kind',
  [
    percentRule('node-cpu', 90),
    percentRule('node-memory', 90),
    percentRule('node-disk', 90),
    /** A running container's memory use as a percent of its limit. */
    percentRule('container-memory', 95),
    section({
      ...common,
      kind: z.literal('manager-stalled'),
      /** Fires when the manager has not completed an observation for this long. */
      minutes: positiveNumber(7 * 24 * 60).default(5),
    }),
    section({
      ...common,
      kind: z.literal('saga-attention'),
      /** Operations that ended needing attention this recently are reported, once each. */
      lookbackHours: positiveNumber(24 * 30).default(24),
    }),
    section({
      ...common,
      kind: z.literal('pool-spread'),
      /** A pool id; absent: every pool. */
      pool: nonEmptyText('a pool id').optional(),
      forSeconds: numberBetween(0, DAY_SECONDS).default(300),
    }),
  ],
  {
    error:
      'expected a rule with kind node-cpu, node-memory, node-disk, container-memory, manager-stalled, ' +
      'saga-attention or pool-spread',
  },
);

export const ruleSchema = ruleSchemaRaw.superRefine((rule, ctx) => {
  if ('resolveBelow' in rule && rule.resolveBelow !== undefined && rule.resolveBelow > rule.above) {
    reject(ctx, 'resolveBelow', `expected at most above (${rule.above})`, rule.resolveBelow);
  }
}, whenFieldsValid);

/** How notifications are retried: without end, so a sink that is down gets them when it is back. */
export const deliverySchema = section({
  /** First wait before a failed send is retried; it doubles up to maximumSeconds. */
  initialSeconds: positiveNumber(3600).default(1),
  maximumSeconds: positiveNumber(3600).default(60),
  /** One send attempt may take this long before it is given up and retried. */
  timeoutSeconds: positiveNumber(600).default(30),
});

export const alertsSchema = section({
  /** How often the rules are evaluated (one read of the cluster each time). */
  evaluateSeconds: positiveNumber(3600).default(15),
  sinks: z
    .record(sinkName(), sinkSchema, { error: 'expected a mapping of sink name to sink settings' })
    .default({}),
  rules: z.array(ruleSchema, { error: 'expected a list of alert rules' }).default([]),
  delivery: deliverySchema.prefault({}),
}).superRefine((alerts, ctx) => {
  const names = new Set<string>();
  alerts.rules.forEach((rule, i) => {
    if (names.has(rule.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rules', i, 'name'],
        message: 'expected a name no other rule has',
        input: rule.name,
      });
    }
    names.add(rule.name);
    (rule.sinks ?? []).forEach((sink, j) => {
      if (!(sink in alerts.sinks)) {
        const known = Object.keys(alerts.sinks);
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'sinks', j],
          message: `expected a sink defined under alerts.sinks (${known.length > 0 ? known.join(', ') : 'none defined'})`,
          input: sink,
        });
      }
    });
  });
  if (alerts.rules.length > 0 && Object.keys(alerts.sinks).length === 0) {
    reject(ctx, 'sinks', 'expected at least one sink when rules are given', alerts.sinks);
  }
}, whenFieldsValid);

export type AlertsConfig = z.output<typeof alertsSchema>;
export type AlertRule = z.output<typeof ruleSchemaRaw>;
export type AlertRuleKind = AlertRule['kind'];
export type SinkConfig = z.output<typeof sinkSchema>;
