import { describe, expect, it } from 'vitest';
import { parseArgs, type Parsed } from '../../../src/cli/args';
import { ExitCode, UsageError } from '../../../src/cli/exit-codes';
import { commandSpecs } from '../../../src/cli/spec';

function run(argv: string): Extract<Parsed, { kind: 'run' }> {
  const parsed = parseArgs(argv.split(' ').filter(Boolean));
  if (parsed.kind !== 'run') throw new Error(`expected a command, got help for ${argv}`);
  return parsed;
}

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('reads cancel with a vmid or a workflow id, and names a bad one', () => {
    expect(run('cancel 1401').command).toEqual({ name: 'cancel', target: { vmid: 1401 } });
    expect(run('cancel ct-pve-1401 --no-wait').command).toEqual({
      name: 'cancel',
      target: { workflowId: 'ct-pve-1401' },
    });
    expect(usageError(['cancel', 'not an id']).message).toBe(
      'cancel: expected a vmid or a workflow id such as ct-pve-1401, got "not an id"',
    );
    expect(usageError(['cancel', '99']).message).toContain('cancel: vmid: expected an integer from 100');
    expect(usageError(['cancel']).message).toBe('cancel: missing <vmid|workflow-id>');
  });

  it('reads every saga command with its options', () => {
    expect(run('migrate 1401 --to srv-px2').command).toEqual({
      name: 'migrate',
      vmid: 1401,
      to: 'srv-px2',
      mode: 'offline',
    });
    expect(run('migrate 1401 --to=srv-px2 --mode restart').command).toMatchObject({ mode: 'restart' });
    expect(run('scale 1402 --cores 4 --memory 2048 --swap 0').command).toEqual({
      name: 'scale',
      vmid: 1402,
      cores: 4,
      memoryMiB: 2048,
      swapMiB: 0,
    });
    expect(run('scale 1402 --memory 1024').command).toEqual({ name: 'scale', vmid: 1402, memoryMiB: 1024 });
    expect(run('snapshot 1400 before-upgrade').command).toEqual({
      name: 'snapshot',
      vmid: 1400,
      snapshotName: 'before-upgrade',
    });
    expect(run('rollback 1400 before-upgrade').command).toMatchObject({ name: 'rollback', vmid: 1400 });
    expect(run('drop 1403').command).toEqual({ name: 'drop', vmid: 1403, snapshotFirst: false });
    expect(run('drop 1403 --mode stop --snapshot').command).toEqual({
      name: 'drop',
      vmid: 1403,
      mode: 'stop',
      snapshotFirst: true,
    });
  });

  it('reads the generator, manager and config commands', () => {
    expect(run('status').command).toEqual({ name: 'status' });
    expect(run('generator start --seed 7 --max 3').command).toEqual({
      name: 'generator',
      action: 'start',
      seed: 7,
      maxContainers: 3,
    });
    for (const action of ['pause', 'resume', 'stop', 'status']) {
      expect(run(`generator ${action}`).command).toEqual({ name: 'generator', action });
      expect(run(`manager ${action}`).command).toEqual({ name: 'manager', action });
    }
    expect(run('manager start --automation recommend').command).toEqual({
      name: 'manager',
      action: 'start',
      automation: 'recommend',
    });
    expect(run('manager approve c1-1 c2-1').command).toEqual({
      name: 'manager',
      action: 'approve',
      ids: ['c1-1', 'c2-1'],
      all: false,
    });
    expect(run('manager approve --all').command).toEqual({
      name: 'manager',
      action: 'approve',
      ids: [],
      all: true,
    });
    expect(run('config validate').command).toEqual({ name: 'config', action: 'validate', online: false });
  });

  it('reads spread check with its excluded pools and config validate --online', () => {
    expect(run('spread check').command).toEqual({ name: 'spread', action: 'check', excludePools: [] });
    expect(run('spread check --exclude-pools web,dns --json').command).toEqual({
      name: 'spread',
      action: 'check',
      excludePools: ['web', 'dns'],
    });
    expect(run('config validate --online').command).toEqual({
      name: 'config',
      action: 'validate',
      online: true,
    });
    expect(() => run('spread check --exclude-pools web,,dns')).toThrow(
      'spread check: --exclude-pools: expected pool ids separated by commas, got "web,,dns"',
    );
    expect(() => run('spread check dns')).toThrow('spread check: unexpected argument "dns"');
  });

  it('reads plan and manager set, and rejects a malformed change before anything is asked', () => {
    expect(run('plan --json').command).toEqual({ name: 'plan' });
    expect(run('autoscale status --json')).toMatchObject({
      command: { name: 'autoscale', action: 'status' },
      global: { json: true },
    });
    expect(() => run('autoscale status 1400')).toThrow('autoscale status: unexpected argument "1400"');
    expect(() => run('autoscale scale')).toThrow('autoscale: unknown action "scale"; expected one of status');
    expect(run('manager set thresholds migratePercent=10 dropPercent=15').command).toEqual({
      name: 'manager',
      action: 'set-thresholds',
      change: { migratePercent: 10, dropPercent: 15 },
    });
    expect(run('manager set automation recommend --rule lab').command).toEqual({
      name: 'manager',
      action: 'set-automation',
      level: 'recommend',
      rule: 'lab',
    });
    expect(run('manager set automation off').command).toEqual({
      name: 'manager',
      action: 'set-automation',
      level: 'off',
    });
    expect(usageError(['manager', 'set', 'thresholds', 'migratePercent']).message).toContain(
      'expected KEY=NUMBER such as migratePercent=10, got "migratePercent"',
    );
    expect(usageError(['manager', 'set', 'thresholds', 'migratePercent=ten']).message).toContain(
      'KEY=NUMBER',
    );
    expect(usageError(['manager', 'set', 'automation', 'sometimes']).message).toContain(
      'automation: expected one of off, recommend, auto, got "sometimes"',
    );
    expect(usageError(['manager', 'set', 'speed', 'fast']).message).toContain(
      'expected thresholds or automation, got "speed"',
    );
    expect(usageError(['manager', 'set', 'thresholds', 'dropPercent=5', '--rule', 'lab']).message).toContain(
      '--rule goes with automation only',
    );
  });

  it('takes global options before or after the command, and --no-wait on sagas', () => {
    expect(run('--config a.yaml --json status').global).toEqual({ config: 'a.yaml', json: true, wait: true });
    expect(run('status --json --config=b.yaml').global).toEqual({ config: 'b.yaml', json: true, wait: true });
    expect(run('drop 1403 --no-wait').global).toEqual({ json: false, wait: false });
    expect(run('--cluster pve2 manager status').global).toEqual({ cluster: 'pve2', json: false, wait: true });
  });

  it('answers --help on every command, group and the program with that page', () => {
    for (const spec of commandSpecs) {
      const parsed = parseArgs([...spec.name.split(' '), '--help']);
      expect(parsed.kind).toBe('help');
      if (parsed.kind === 'help') expect(parsed.text).toContain(`Usage: pve-autopilot ${spec.name}`);
    }
    for (const argv of [
      ['--help'],
      ['-h'],
      ['help'],
      ['generator', '--help'],
      ['help', 'manager', 'approve'],
    ]) {
      expect(parseArgs(argv).kind).toBe('help');
    }
    // Help wins over arguments that would be wrong: the reader is asking how to write them.
    expect(parseArgs(['migrate', 'abc', '--help']).kind).toBe('help');
    const program = parseArgs(['--help']);
    expect(program.kind === 'help' && program.text).toMatch(
      /Exit codes:\n {2}0 {2}success\n {2}1 [^\n]+\n {2}2 [^]+ {2}5 /,
    );
  });

  it.each([
    [[], /expected a command/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['generator'], /generator: expected an action: start, pause, resume, stop, status/],
    [['manager', 'explode'], /manager: unknown action "explode"/],
    [['status', '--verbose'], /status: unknown option --verbose/],
    [['migrate', '1401', '--to', 'srv-px2', '--cores', '2'], /migrate: unknown option --cores/],
    [['status', 'now'], /status: unexpected argument "now"/],
    [['migrate', '--to', 'srv-px2'], /migrate: missing <vmid>/],
    [['migrate', '1401'], /migrate: --to NODE is required/],
    [['migrate', '1401', '--to'], /migrate: --to needs a value \(--to NODE\)/],
    [['migrate', '1401', '--to', '--json'], /migrate: --to needs a value/],
    [['migrate', '1401', '--to', 'srv px2'], /migrate: --to: expected a node name, got "srv px2"/],
    [
      ['migrate', '1401', '--to', 'srv-px2', '--mode', 'live'],
      /--mode: expected one of offline, restart, got "live"/,
    ],
    [
      ['migrate', 'abc', '--to', 'srv-px2'],
      /migrate: vmid: expected an integer from 100 to 999999999, got "abc"/,
    ],
    [['migrate', '99', '--to', 'srv-px2'], /vmid: expected an integer from 100 to 999999999, got "99"/],
    [['migrate', '1401.0', '--to', 'srv-px2'], /got "1401.0"/],
    [['scale', '1401'], /scale: expected at least one of --cores, --memory, --swap/],
    [['scale', '1401', '--cores', '0'], /scale: --cores: expected an integer from 1 to 8192, got "0"/],
    [['scale', '1401', '--cores', '-1'], /--cores: expected an integer from 1 to 8192, got "-1"/],
    [['scale', '1401', '--cores', '1.5'], /got "1.5"/],
    [['scale', '1401', '--memory', '1e3'], /--memory: expected an integer from 16 to 4194304, got "1e3"/],
    [['scale', '1401', '--memory', '8'], /--memory: expected an integer from 16/],
    [['scale', '1401', '--swap', 'lots'], /--swap: expected an integer from 0 to 4194304, got "lots"/],
    [['snapshot', '1401'], /snapshot: missing <name>/],
    [['snapshot', '1401', '1st'], /snapshot: name: expected a snapshot name/],
    [['rollback', '1401', 'a', 'b'], /rollback: unexpected argument "b"/],
    [['drop', '1401', '--mode', 'shred'], /drop: --mode: expected one of stop, destroy, got "shred"/],
    [['drop', '1401', '--snapshot=yes'], /drop: --snapshot takes no value/],
    [['status', '--no-wait'], /status: unknown option --no-wait/],
    [['generator', 'start', '--seed', 'x'], /generator start: --seed: expected an integer/],
    [['manager', 'start', '--automation', 'full'], /--automation: expected one of off, recommend, auto/],
    [['manager', 'approve'], /expected decision ids \(see manager status\) or --all/],
    [['manager', 'approve', 'c1-1', '--all'], /give decision ids or --all, not both/],
    [['help', 'nothing'], /help: unknown command "nothing"/],
  ])('rejects %j with exit code 2 and a message naming the fault', (argv, message) => {
    const err = usageError(argv);
    expect(err.code).toBe(ExitCode.usage);
    expect(err.message).toMatch(message);
  });
});
