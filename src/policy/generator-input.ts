// The generator workflow's input as a zod schema: the workflow parses it before anything else, so
// a null, an empty object or a typo fails the run at once, naming the field, instead of a TypeError
// that retries the workflow task for ever.
import { z } from 'zod';
import { affinityRulesSchema } from './affinity-config';
import { arrivalLawProblem } from './validation';
import type { ArrivalLaw } from './arrivals';

const MAX_SECONDS = 86_400;

const vmid = z.number().int().min(100).max(999_999_999);

const arrivalLaw = z.custom<ArrivalLaw>().superRefine((law, ctx) => {
  if (typeof law !== 'object' || law === null) {
    ctx.addIssue({ code: 'custom', message: 'expected an object with a law field' });
    return;
  }
  const problem = arrivalLawProblem(law);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const scope = z.strictObject({
  vmidMin: vmid,
  vmidMax: vmid,
  pool: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
});

const policy = z.strictObject({
  scope,
  capacityBasis: z.enum(['allocated', 'used']),
  limitPercent: z
    .number()
    .gt(0, 'expected a number > 0 and <= 100')
    .max(100, 'expected a number > 0 and <= 100'),
  nodeWeights: z.record(z.string(), z.number().min(0).max(1_000_000)),
  memoryChoicesMiB: z
    .array(z.number().int().min(16, 'expected whole MiB >= 16'))
    .min(1, 'expected a non-empty list of whole MiB >= 16'),
  affinity: affinityRulesSchema.optional(),
  spread: z
    .strictObject({ pool: z.string().min(1), zones: z.record(z.string(), z.array(z.string())) })
    .optional(),
});

const container = z.strictObject({
  template: z.string().min(1),
  storage: z.string().min(1),
  diskGiB: z.number().int().min(1),
  cores: z.number().int().min(1),
  swapMiB: z.number().int().min(0),
  net0: z.string().min(1),
  hostnamePrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?$/i, 'expected letters, digits and inner hyphens'),
  unprivileged: z.boolean(),
});

/** The state a run hands to the next through continue-as-new: our own, so checked for shape only. */
const carried = z.looseObject({
  runState: z.enum(['running', 'paused', 'backing-off', 'stopping', 'stopped']),
  arrival: arrivalLaw,
  counters: z.looseObject({
    created: z.number().int().min(0),
    failed: z.number().int().min(0),
    skippedForCapacity: z.number().int().min(0),
  }),
  recent: z.array(
    z.looseObject({
      at: z.number(),
      node: z.string().nullable(),
      memoryMiB: z.number(),
      vmid: z.number().optional(),
      outcome: z.enum(['created', 'failed', 'skipped-capacity']),
      detail: z.string().optional(),
    }),
  ),
  seed: z.number().int(),
  nextArrivalAt: z.number().optional(),
  drainedNodes: z.array(z.string()).optional(),
});

export const generatorInputSchema = z.strictObject({
  cluster: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/i, 'expected letters, digits and hyphens, up to 31'),
  policy,
  arrival: arrivalLaw,
  container,
  backoffSeconds: z
    .number()
    .gt(0, `expected a number > 0 and <= ${MAX_SECONDS}`)
    .max(MAX_SECONDS, `expected a number > 0 and <= ${MAX_SECONDS}`),
  seed: z.number().int(),
  admissionShare: z.number().gt(0).max(1).optional(),
  maxContainers: z.number().int().min(0, 'expected a whole number >= 0').optional(),
  iterationsPerRun: z.number().int().min(1).optional(),
  drainedNodes: z.array(z.string()).optional(),
  carried: carried.optional(),
});
