// The pve-autopilot command: parse, load the config, run one command, and turn whatever ended it
// into a message and a documented exit code (see exit-codes.ts).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config';
import { parseArgs, type Command } from './args';
import { cancelCommand } from './commands/cancel';
import { autoscaleStatusCommand } from './commands/autoscale';
import { alertsCommand } from './commands/alerts';
import { configValidateCommand } from './commands/config';
import { healthCheckCommand } from './commands/health-check';
import { historyCommand } from './commands/history';
import { generatorCommand } from './commands/generator';
import { managerCommand } from './commands/manager';
import { nodeCommand } from './commands/node';
import { sagaCommand } from './commands/saga';
import { planCommand } from './commands/plan';
import { spreadCheckCommand } from './commands/spread';
import { suggestCommand } from './commands/suggest';
import { statusCommand } from './commands/status';
import { createContext, isTemporalUnavailable, type Context } from './context';
import { CliError, ExitCode, UsageError } from './exit-codes';
import { helpText } from './help';
import { line, printJson, type Io } from './output';

export async function main(argv: readonly string[], io: Io): Promise<number> {
  // Known before parsing succeeds, so that even a usage error comes out as JSON when asked.
  const json = argv.includes('--json');
  let ctx: Context | undefined;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return ExitCode.ok;
    }
    // health-check reports a bad config as one of its failed checks (exit 1), not as a usage error.
    if (parsed.command.name === 'health-check')
      return await healthCheckCommand(parsed.global, io, parsed.command.format);
    ctx = await createContext(parsed.global, io);
    return await dispatch(ctx, parsed.command);
  } catch (err) {
    return fail(io, json, err, ctx);
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

function dispatch(ctx: Context, command: Command): Promise<number> | number {
  switch (command.name) {
    case 'status':
      return statusCommand(ctx);
    case 'generator':
      return generatorCommand(ctx, command);
    case 'manager':
      return managerCommand(ctx, command);
    case 'config':
      return configValidateCommand(ctx, command);
    case 'spread':
      return spreadCheckCommand(ctx, command);
    case 'plan':
      return planCommand(ctx);
    case 'suggest':
      return suggestCommand(ctx);
    case 'cancel':
      return cancelCommand(ctx, command);
    case 'autoscale':
      return autoscaleStatusCommand(ctx);
    case 'history':
      return historyCommand(ctx, command);
    case 'health-check':
      throw new Error('health-check runs before the context is made');
    case 'node':
      return nodeCommand(ctx, command);
    case 'alerts':
      return alertsCommand(ctx);
    default:
      return sagaCommand(ctx, command);
  }
}

function fail(io: Io, json: boolean, err: unknown, ctx: Context | undefined): number {
  const { code, message, problems } = describeFailure(err, ctx);
  if (json) printJson(io, { error: { exitCode: code, message, ...(problems ? { problems } : {}) } });
  line(io.stderr, message.startsWith('config error') ? message : `pve-autopilot: ${message}`);
  if (err instanceof UsageError) {
    const usage = helpText(err.command)
      .split('\n')
      .find((l) => l.startsWith('Usage:'));
    line(
      io.stderr,
      err.command !== undefined && usage !== undefined ? usage : 'Run pve-autopilot --help for usage.',
    );
  }
  return code;
}

function describeFailure(
  err: unknown,
  ctx: Context | undefined,
): { code: number; message: string; problems?: ReadonlyArray<{ path: string; message: string }> } {
  if (err instanceof CliError) return { code: err.code, message: err.message };
  if (err instanceof ConfigError)
    return { code: ExitCode.usage, message: err.message, problems: err.problems };
  if (isTemporalUnavailable(err)) {
    const where = ctx === undefined ? '' : ` at ${ctx.config.temporal.address}`;
    return {
      code: ExitCode.unreachable,
      message: `Temporal became unreachable${where}: ${(err as Error).message}`,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.failed, message: `unexpected error: ${message}` };
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that went away (`status | head`) ends the output, not the command with a crash.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  // Exit now rather than when the event loop drains: a lingering gRPC or HTTP handle must not keep
  // a finished command alive. But first let stdout and stderr flush: a write to a pipe can still be
  // queued (`status --json` on fleet-large is 400 KB), and exiting would cut it off at 64 KiB.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
