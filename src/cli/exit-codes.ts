// The exit codes of pve-autopilot, one per kind of ending a script may want to branch on, and the
// error type that carries one from deep inside a command up to main.

export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The operation failed or was rolled back. */
  failed: 1,
  /** Bad arguments or config: nothing was started. */
  usage: 2,
  /** Refused: preflight said no, the container is busy, or the workflow is not in a state to accept it. */
  refused: 3,
  /** An operation could not compensate: a human has to look. */
  needsAttention: 4,
  /** Temporal or the Proxmox VE API could not be reached. */
  unreachable: 5,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** For --help and the README: the same text in both places. */
export const exitCodeHelp: readonly (readonly [ExitCodeValue, string])[] = [
  [ExitCode.ok, 'success'],
  [ExitCode.failed, 'the operation failed or was rolled back'],
  [ExitCode.usage, 'bad arguments or config (nothing was started)'],
  [ExitCode.refused, 'refused: preflight said no, the container is busy, or the workflow is not running'],
  [ExitCode.needsAttention, 'needs attention: a failed operation could not roll back'],
  [ExitCode.unreachable, 'Temporal or the Proxmox VE API is unreachable'],
];

/** An ending the CLI expected: printed as its message alone (no stack), exiting with `code`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: ExitCodeValue,
    message: string,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  /** The command whose usage line goes with the message, e.g. "migrate" or "generator start". */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(ExitCode.usage, message);
    this.command = command;
  }
}
