// Runs one container saga against a running dev stack (`npm start`) and follows it to its outcome:
// the workflow id, one line per step, the outcome and the Web UI link. A developer's tool; the
// operator's command is `pve-autopilot`. Bad arguments exit 2 before anything is started.
//
//   npx tsx scripts/run-saga.ts migrate --vmid 1401 --to srv-px2
//   npx tsx scripts/run-saga.ts scale --vmid 1401 --memory 1024 --cores 2
//   npx tsx scripts/run-saga.ts provision --node srv-px2 --memory 512 --storage local-lvm
//   npx tsx scripts/run-saga.ts drop --vmid 1403 --mode stop --snapshot-first
//   npx tsx scripts/run-saga.ts snapshot --vmid 1401 --name before-upgrade
//   npx tsx scripts/run-saga.ts rollback --vmid 1401 --name before-upgrade
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ConfigError, loadConfig, managedScopeOf, type Config } from '../src/config';
import {
  describeIssues,
  dropInputSchema,
  migrateInputSchema,
  operationKinds,
  provisionInputSchema,
  rollbackInputSchema,
  scaleInputSchema,
  snapshotInputSchema,
  type OperationKind,
  type OperationResult,
} from '../src/domain';
import { clientConnectionOptions } from '../src/temporal/settings';
import {
  ContainerBusyError,
  InvalidOperationInputError,
  startOperation,
  summaryOf,
  type OperationInput,
} from '../src/temporal/starts';
import { SagaFailureType, sagaProgressQuery } from '../workflows/sagas/saga';

const schemas: Record<OperationKind, z.ZodType> = {
  migrate: migrateInputSchema,
  scale: scaleInputSchema,
  provision: provisionInputSchema,
  drop: dropInputSchema,
  snapshot: snapshotInputSchema,
  rollback: rollbackInputSchema,
};

const Exit = { ok: 0, failed: 1, usage: 2, refused: 3, needsAttention: 4, unreachable: 5 } as const;

const usage = `usage: npx tsx scripts/run-saga.ts <operation> [options]

operations and their options:
  migrate    --vmid N --to NODE [--mode offline|restart] [--shutdown-timeout S]
  scale      --vmid N [--cores N] [--memory MiB] [--swap MiB] [--settle S]
  provision  --node NODE --memory MiB [--cores N] [--swap MiB] [--disk GiB] [--storage ID]
             [--template VOLID] [--no-start]      (other defaults from the config's container section)
  drop       --vmid N [--mode stop|destroy] [--snapshot-first] [--shutdown-timeout S]
  snapshot   --vmid N --name NAME [--description TEXT]
  rollback   --vmid N --name NAME

common options:
  --config PATH   config file (default $PVE_AUTOPILOT_CONFIG, then ./pve-autopilot.yaml)
  --reason TEXT   why, shown in the Web UI summary
  --no-wait       print the workflow id and link, do not wait for the outcome
  -h, --help

exit status: 0 succeeded, 1 failed or rolled back, 2 bad arguments or config (nothing started),
3 refused or container busy, 4 needs attention, 5 Temporal unreachable`;

const optionSpec = {
  vmid: { type: 'string' },
  to: { type: 'string' },
  mode: { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  cores: { type: 'string' },
  memory: { type: 'string' },
  swap: { type: 'string' },
  settle: { type: 'string' },
  node: { type: 'string' },
  disk: { type: 'string' },
  storage: { type: 'string' },
  template: { type: 'string' },
  'no-start': { type: 'boolean' },
  'snapshot-first': { type: 'boolean' },
  name: { type: 'string' },
  description: { type: 'string' },
  config: { type: 'string' },
  reason: { type: 'string' },
  'no-wait': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
type Flag = keyof typeof optionSpec;
type Values = Partial<Record<Flag, string | boolean>>;

const common: Flag[] = ['config', 'reason', 'no-wait', 'help'];
const flagsOf: Record<OperationKind, Flag[]> = {
  migrate: ['vmid', 'to', 'mode', 'shutdown-timeout'],
  scale: ['vmid', 'cores', 'memory', 'swap', 'settle'],
  provision: ['node', 'memory', 'cores', 'swap', 'disk', 'storage', 'template', 'no-start'],
  drop: ['vmid', 'mode', 'snapshot-first', 'shutdown-timeout'],
  snapshot: ['vmid', 'name', 'description'],
  rollback: ['vmid', 'name'],
};
const required: Record<OperationKind, Flag[]> = {
  migrate: ['vmid', 'to'],
  scale: ['vmid'],
  provision: ['node', 'memory'],
  drop: ['vmid'],
  snapshot: ['vmid', 'name'],
  rollback: ['vmid', 'name'],
};
/** Input field → the flag that sets it, so a schema's complaint names what the user typed. */
const flagOfField: Record<string, string> = {
  vmid: '--vmid',
  target: '--to',
  mode: '--mode',
  shutdownTimeoutSeconds: '--shutdown-timeout',
  cores: '--cores',
  memoryMiB: '--memory',
  swapMiB: '--swap',
  settleSeconds: '--settle',
  node: '--node',
  diskGiB: '--disk',
  storage: '--storage',
  template: '--template',
  name: '--name',
  description: '--description',
  reason: '--reason',
};

class UsageError extends Error {}
class Ending extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function parseCommand(argv: string[]): { operation: OperationKind; values: Values } | 'help' {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof optionSpec; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: optionSpec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError(`expected an operation: ${operationKinds.join(', ')}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const operation = positionals[0] as OperationKind;
  if (!operationKinds.includes(operation)) {
    throw new UsageError(
      `unknown operation '${positionals[0]}': expected one of ${operationKinds.join(', ')}`,
    );
  }
  const allowed = new Set<Flag>([...flagsOf[operation], ...common]);
  for (const flag of Object.keys(values) as Flag[]) {
    if (!allowed.has(flag)) throw new UsageError(`--${flag} is not an option of ${operation}`);
  }
  for (const flag of required[operation]) {
    if (values[flag] === undefined) throw new UsageError(`${operation} needs --${flag}`);
  }
  if (operation === 'scale' && ['cores', 'memory', 'swap'].every((f) => values[f as Flag] === undefined)) {
    throw new UsageError('scale needs at least one of --cores, --memory, --swap');
  }
  return { operation, values };
}

/** A whole number from a flag, or a usage error that names the flag and what it got. */
function integer(values: Values, flag: Flag): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const text = String(raw);
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag}: expected a whole number, got "${text}"`);
  return Number(text);
}

function text(values: Values, flag: Flag): string | undefined {
  const raw = values[flag];
  return raw === undefined ? undefined : String(raw);
}

/** Leaves out what the user did not give, so the schema's defaults apply. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function inputOf(operation: OperationKind, values: Values, config: Config): Record<string, unknown> {
  const scope = managedScopeOf(config);
  const reason = text(values, 'reason') ?? 'operator, scripts/run-saga.ts';
  const vmid = integer(values, 'vmid');
  switch (operation) {
    case 'migrate':
      return defined({
        vmid,
        scope,
        target: text(values, 'to'),
        mode: text(values, 'mode'),
        shutdownTimeoutSeconds: integer(values, 'shutdown-timeout'),
        admissionShare: config.manager.admissionShare,
        reason,
      });
    case 'scale':
      return defined({
        vmid,
        scope,
        cores: integer(values, 'cores'),
        memoryMiB: integer(values, 'memory'),
        swapMiB: integer(values, 'swap'),
        settleSeconds: integer(values, 'settle'),
        reason,
      });
    case 'provision': {
      const c = config.container;
      return defined({
        node: text(values, 'node'),
        scope,
        memoryMiB: integer(values, 'memory'),
        cores: integer(values, 'cores') ?? c.cores,
        swapMiB: integer(values, 'swap') ?? c.swapMiB,
        diskGiB: integer(values, 'disk') ?? c.diskGiB,
        template: text(values, 'template') ?? c.template,
        storage: text(values, 'storage') ?? c.storage,
        net0: c.net0,
        hostnamePrefix: c.hostnamePrefix,
        unprivileged: c.unprivileged,
        start: values['no-start'] !== true,
        reason,
      });
    }
    case 'drop':
      return defined({
        vmid,
        scope,
        mode: text(values, 'mode'),
        snapshotFirst: values['snapshot-first'] === true ? true : undefined,
        shutdownTimeoutSeconds: integer(values, 'shutdown-timeout'),
        reason,
      });
    case 'snapshot':
      return defined({ vmid, scope, name: text(values, 'name'), description: text(values, 'description') });
    case 'rollback':
      return defined({ vmid, scope, name: text(values, 'name') });
  }
}

/** The schema's complaint with flag names instead of input field names. */
function flagWords(message: string): string {
  return message.replace(/(^|; |: )([a-zA-Z]+)(?=: )/g, (all, before: string, field: string) =>
    flagOfField[field] ? `${before}${flagOfField[field]}` : all,
  );
}

function webUiLink(config: Config, workflowId: string): string {
  const port = process.env.TEMPORAL_UI_PORT ?? '8233';
  return `http://127.0.0.1:${port}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

async function connect(config: Config): Promise<Client> {
  try {
    const connection = await Connection.connect(await clientConnectionOptions(config.temporal));
    return new Client({ connection, namespace: config.temporal.namespace });
  } catch (err) {
    throw new Ending(
      Exit.unreachable,
      `Temporal is unreachable at ${config.temporal.address}: ${(err as Error).message}. ` +
        'Is the dev stack running (`npm start`)?',
    );
  }
}

/** Prints each step the saga reaches, once, from progress queries and at the end from its result. */
class StepPrinter {
  private seen = 0;

  print(steps: readonly string[]): void {
    for (; this.seen < steps.length; this.seen++) console.log(`  step ${this.seen + 1}: ${steps[this.seen]}`);
  }

  /** Polls the saga's progress until `done` settles; returns what `done` returns. */
  async follow<T>(handle: WorkflowHandle, done: Promise<T>): Promise<T> {
    let finished = false;
    const watch = (async () => {
      while (!finished) {
        try {
          this.print((await handle.query(sagaProgressQuery)).steps);
        } catch {
          // No answer yet (the first workflow task has not run) or the run just closed.
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      return await done;
    } finally {
      finished = true;
      await watch;
    }
  }
}

function outcomeOfFailure(err: unknown, steps: StepPrinter): { code: number; line: string } {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) {
    return { code: Exit.failed, line: `failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const details = cause.details?.[0] as Partial<OperationResult> | undefined;
  steps.print(details?.steps ?? []);
  switch (cause.type) {
    case SagaFailureType.refused:
      return { code: Exit.refused, line: `refused: ${cause.message}` };
    case SagaFailureType.rolledBack:
      return { code: Exit.failed, line: `rolled back: ${cause.message}` };
    case SagaFailureType.needsAttention:
      return { code: Exit.needsAttention, line: `NEEDS ATTENTION: ${cause.message}` };
    case SagaFailureType.invalidInput:
      return { code: Exit.usage, line: `invalid input: ${cause.message}` };
    default:
      return { code: Exit.failed, line: `failed (${cause.type ?? 'unknown'}): ${cause.message}` };
  }
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command === 'help') {
    console.log(usage);
    return Exit.ok;
  }
  const { operation, values } = command;
  let config: Config;
  try {
    config = await loadConfig({ path: text(values, 'config'), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) throw new Ending(Exit.usage, err.message);
    throw err;
  }
  const input = inputOf(operation, values, config);
  // Checked before connecting: bad input is a usage error whether or not Temporal is up.
  const checked = schemas[operation].safeParse(input);
  if (!checked.success) throw new UsageError(flagWords(describeIssues(checked.error)));
  const client = await connect(config);
  let handle: WorkflowHandle;
  try {
    // The input is typed per operation only at run time here; startOperation checks it with zod.
    handle = await startOperation(client, operation, input as OperationInput<typeof operation>, {
      cluster: config.cluster.name,
      taskQueue: config.temporal.taskQueue,
    });
  } catch (err) {
    if (err instanceof InvalidOperationInputError) throw new UsageError(flagWords(err.message));
    if (err instanceof ContainerBusyError) throw new Ending(Exit.refused, err.message);
    throw err;
  }
  const link = webUiLink(config, handle.workflowId);
  console.log(`started: ${summaryOf(operation, input)}`);
  console.log(`workflow id: ${handle.workflowId}`);
  console.log(`web ui: ${link}`);
  try {
    if (values['no-wait'] === true) return Exit.ok;
    const steps = new StepPrinter();
    try {
      const result = await steps.follow(handle, handle.result() as Promise<OperationResult>);
      steps.print(result.steps);
      console.log(
        `succeeded: ${result.detail}${result.vmid ? ` (CT ${result.vmid} on ${result.node || '-'})` : ''}`,
      );
      return Exit.ok;
    } catch (err) {
      const ending = outcomeOfFailure(err, steps);
      console.log(ending.line);
      return ending.code;
    } finally {
      console.log(`web ui: ${link}`);
    }
  } finally {
    await client.connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`run-saga: ${err.message}\n\n${usage}`);
      process.exit(Exit.usage);
    }
    if (err instanceof Ending) {
      console.error(`run-saga: ${err.message}`);
      process.exit(err.code);
    }
    console.error(err);
    process.exit(Exit.failed);
  },
);
