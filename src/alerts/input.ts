// The alerts workflow's input: what the worker's config says, reduced to what a workflow may hold
// (rule thresholds and sink names, never sink addresses or credentials), and its zod check.
import { z } from 'zod';
import type { AlertsCore, SinkRef } from './evaluate';
import { deliverySchema, ruleSchema, type AlertRule, type AlertsConfig } from './schema';

export interface AlertsInput {
  cluster: string;
  evaluateSeconds: number;
  rules: AlertRule[];
  sinks: SinkRef[];
  delivery: z.output<typeof deliverySchema>;
  /** Evaluations per run before continue-as-new (default 500); tests set it low. */
  iterationsPerRun?: number;
  /** Carried across continue-as-new; absent on the first run. */
  carried?: AlertsCarried;
}

export interface AlertsCarried {
  core: AlertsCore;
  /** Epoch ms the first run started: a manager never seen counts as stalled since then. */
  since: number;
  deliveryLog: DeliveryRecord[];
  /** Notifications not yet sent, per sink, oldest first. */
  queues: Record<string, unknown[]>;
  /** Evaluations of all earlier runs. */
  evaluations?: number;
}

export interface DeliveryRecord {
  key: string;
  sink: string;
  status: 'delivered' | 'rejected';
  at: number;
  detail?: string;
}

const sinkRefSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['webhook', 'alertmanager', 'smtp']),
  resendSeconds: z.number().positive().optional(),
});

export const alertsInputSchema = z
  .strictObject({
    cluster: z.string().min(1),
    evaluateSeconds: z.number().positive(),
    rules: z.array(ruleSchema),
    sinks: z.array(sinkRefSchema),
    delivery: deliverySchema,
    iterationsPerRun: z.number().int().positive().optional(),
    carried: z
      .strictObject({
        core: z.strictObject({ rules: z.record(z.string(), z.unknown()), events: z.array(z.unknown()) }),
        since: z.number(),
        deliveryLog: z.array(z.unknown()),
        queues: z.record(z.string(), z.array(z.unknown())),
        evaluations: z.number().int().nonnegative().optional(),
      })
      .optional(),
  })
  .superRefine((input, ctx) => {
    const names = new Set(input.sinks.map((s) => s.name));
    input.rules.forEach((rule, i) => {
      (rule.sinks ?? []).forEach((sink, j) => {
        if (!names.has(sink)) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'sinks', j], message: `unknown sink ${sink}` });
        }
      });
    });
  });

/** Throws with the field path of the first problem. */
export function parseAlertsInput(raw: unknown): AlertsInput {
  const result = alertsInputSchema.safeParse(raw);
  if (result.success) return result.data as AlertsInput;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  throw new Error(`${path === '' ? 'input' : path}: ${issue?.message ?? 'invalid'}`);
}

/** The workflow input for one cluster, from the config's `alerts:` section. */
export function alertsInputOf(cluster: string, alerts: AlertsConfig): AlertsInput {
  return {
    cluster,
    evaluateSeconds: alerts.evaluateSeconds,
    rules: alerts.rules,
    sinks: Object.entries(alerts.sinks).map(([name, sink]) => ({
      name,
      type: sink.type,
      ...(sink.type === 'alertmanager' ? { resendSeconds: sink.resendSeconds } : {}),
    })),
    delivery: alerts.delivery,
  };
}

export function alertsWorkflowId(cluster: string): string {
  return `alerts-${cluster}`;
}
