// node drain / undrain / status on the command line: what they read, and the errors that name the
// argument at fault before anything is started.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/args';
import { UsageError } from '../../../src/cli/exit-codes';

function command(argv: string): unknown {
  const parsed = parseArgs(argv.split(' '));
  if (parsed.kind !== 'run') throw new Error(`expected a command for ${argv}`);
  return parsed.command;
}

function usage(argv: string): string {
  try {
    parseArgs(argv.split(' '));
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`expected a usage error for ${argv}`);
}

describe('node commands', () => {
  it('reads drain with its parallelism and --wait, 2 at a time by default', () => {
    expect(command('node drain srv-px1')).toEqual({
      name: 'node',
      action: 'drain',
      node: 'srv-px1',
      parallel: 2,
      wait: false,
    });
    expect(command('node drain srv-px1 --parallel 4 --wait')).toEqual({
      name: 'node',
      action: 'drain',
      node: 'srv-px1',
      parallel: 4,
      wait: true,
    });
    expect(command('node undrain srv-px1')).toEqual({ name: 'node', action: 'undrain', node: 'srv-px1' });
    expect(command('node status')).toEqual({ name: 'node', action: 'status' });
  });

  it('names a bad node, parallelism or missing argument', () => {
    expect(usage('node drain srv_px1!')).toBe('node drain: expected a node name, got "srv_px1!"');
    expect(usage('node drain srv-px1 --parallel 0')).toBe(
      'node drain: --parallel: expected an integer from 1 to 32, got "0"',
    );
    expect(usage('node drain srv-px1 --parallel many')).toContain('--parallel: expected an integer');
    expect(usage('node drain')).toBe('node drain: missing <node>');
    expect(usage('node undrain srv-px1 --parallel 2')).toContain('node undrain: unknown option --parallel');
    expect(usage('node reboot srv-px1')).toBe(
      'node: unknown action "reboot"; expected one of drain, undrain, status',
    );
  });
});
