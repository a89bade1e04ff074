// Command-line parsing: argv to a typed Command, or a UsageError that names the argument at fault.
// Pure (no config, no I/O), so every bad-argument case is a unit test; cluster checks come later.
import { parseArgs as tokenize } from 'node:util';
import type { AutomationLevel } from '../domain';
import { UsageError } from './exit-codes';
import { helpText } from './help';
import { actionsOf, commandGroups, commandSpecs, globalOptions, specOf, type CommandSpec } from './spec';

export type SagaCommand =
  | { name: 'migrate'; vmid: number; to: string; mode: 'offline' | 'restart' }
  | { name: 'scale'; vmid: number; cores?: number; memoryMiB?: number; swapMiB?: number }
  | { name: 'snapshot'; vmid: number; snapshotName: string }
  | { name: 'rollback'; vmid: number; snapshotName: string }
  | { name: 'drop'; vmid: number; mode?: 'stop' | 'destroy'; snapshotFirst: boolean };

export type LoopAction = 'pause' | 'resume' | 'stop' | 'status';

export type Command =
  | SagaCommand
  | { name: 'status' }
  | { name: 'generator'; action: 'start'; seed?: number; maxContainers?: number }
  | { name: 'generator'; action: LoopAction }
  | { name: 'manager'; action: 'start'; automation?: AutomationLevel; seed?: number }
  | { name: 'manager'; action: LoopAction }
  | { name: 'manager'; action: 'approve'; ids: string[]; all: boolean }
  | { name: 'manager'; action: 'set-thresholds'; change: Record<string, number> }
  | { name: 'manager'; action: 'set-automation'; level: AutomationLevel; rule?: string }
  | { name: 'plan' }
  | { name: 'alerts' }
  | { name: 'suggest' }
  | { name: 'autoscale'; action: 'status' }
  | { name: 'config'; action: 'validate'; online: boolean }
  | { name: 'spread'; action: 'check'; excludePools: string[] }
  | { name: 'cancel'; target: { vmid: number } | { workflowId: string } }
  | { name: 'health-check'; format: 'text' | 'json' }
  | { name: 'history'; vmid?: number; outcome?: HistoryOutcome; sinceMs?: number; limit: number }
  | NodeCommand;

export const historyOutcomes = ['succeeded', 'refused', 'rolled-back', 'needs-attention', 'running'] as const;
export type HistoryOutcome = (typeof historyOutcomes)[number];

export type NodeCommand =
  | { name: 'node'; action: 'drain'; node: string; parallel: number; wait: boolean }
  | { name: 'node'; action: 'undrain'; node: string }
  | { name: 'node'; action: 'status' };

/** Migrations at once of a drain when --parallel is not given. */
export const DEFAULT_DRAIN_PARALLEL = 2;

export interface GlobalOptions {
  config?: string;
  /** --cluster: one entry of the config's clusters list. */
  cluster?: string;
  json: boolean;
  /** False with --no-wait (sagas only). */
  wait: boolean;
}

export type Parsed =
  { kind: 'help'; text: string } | { kind: 'run'; command: Command; global: GlobalOptions };

type Values = Readonly<Record<string, string | boolean | undefined>>;

// Every option of every command, so the tokenizer knows which ones take a value; which command
// allows which is checked afterwards, to name the command in the message.
const allOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
for (const spec of [{ options: globalOptions }, ...commandSpecs]) {
  for (const [name, o] of Object.entries(spec.options)) {
    allOptions[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  }
}

export function parseArgs(argv: readonly string[]): Parsed {
  const { tokens } = tokenize({
    args: [...argv],
    options: allOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const options: Array<{ name: string; raw: string; value: string | undefined; inline: boolean }> = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    else if (t.kind === 'option') {
      options.push({ name: t.name, raw: t.rawName, value: t.value, inline: t.inlineValue === true });
    }
  }
  const wantsHelp = options.some((o) => o.name === 'help');

  const first = positionals[0];
  if (first === undefined) {
    if (wantsHelp) return { kind: 'help', text: helpText() };
    throw new UsageError('expected a command');
  }
  if (first === 'help') return { kind: 'help', text: helpText(resolveHelpTopic(positionals.slice(1))) };

  let spec: CommandSpec | undefined;
  let rest: string[];
  if (first in commandGroups) {
    const action = positionals[1];
    if (action === undefined) {
      if (wantsHelp) return { kind: 'help', text: helpText(first) };
      throw new UsageError(`${first}: expected an action: ${actionsOf(first).join(', ')}`, first);
    }
    spec = specOf(`${first} ${action}`);
    if (spec === undefined) {
      throw new UsageError(
        `${first}: unknown action "${action}"; expected one of ${actionsOf(first).join(', ')}`,
        first,
      );
    }
    rest = positionals.slice(2);
  } else {
    spec = specOf(first);
    if (spec === undefined) throw new UsageError(`unknown command "${first}"`);
    rest = positionals.slice(1);
  }
  if (wantsHelp) return { kind: 'help', text: helpText(spec.name) };

  const values = checkOptions(spec, options);
  checkPositionals(spec, rest);
  const global: GlobalOptions = {
    json: values.json === true,
    wait: values['no-wait'] !== true,
    ...(typeof values.config === 'string' ? { config: values.config } : {}),
    ...(typeof values.cluster === 'string' ? { cluster: values.cluster } : {}),
  };
  return { kind: 'run', command: buildCommand(spec.name, rest, values), global };
}

function resolveHelpTopic(words: string[]): string | undefined {
  const topic = words.join(' ');
  if (topic === '') return undefined;
  if (specOf(topic) || topic in commandGroups) return topic;
  throw new UsageError(`help: unknown command "${topic}"`);
}

function checkOptions(
  spec: CommandSpec,
  options: ReadonlyArray<{ name: string; raw: string; value: string | undefined; inline: boolean }>,
): Values {
  const values: Record<string, string | boolean> = {};
  for (const o of options) {
    const known = spec.options[o.name] ?? globalOptions[o.name];
    if (known === undefined) {
      throw new UsageError(
        `${spec.name}: unknown option ${o.raw}; see pve-autopilot ${spec.name} --help`,
        spec.name,
      );
    }
    if (known.type === 'boolean') {
      if (o.value !== undefined) throw new UsageError(`${spec.name}: ${o.raw} takes no value`, spec.name);
      values[o.name] = true;
      continue;
    }
    // "--to --json" means the value was forgotten, not a node named --json.
    if (o.value === undefined || o.value === '' || (!o.inline && o.value.startsWith('--'))) {
      throw new UsageError(
        `${spec.name}: ${o.raw} needs a value (${o.raw} ${known.value ?? 'VALUE'})`,
        spec.name,
      );
    }
    values[o.name] = o.value;
  }
  return values;
}

function checkPositionals(spec: CommandSpec, rest: readonly string[]): void {
  const { min, max } = spec.positionals;
  if (rest.length > max) {
    throw new UsageError(`${spec.name}: unexpected argument "${rest[max] ?? ''}"`, spec.name);
  }
  if (rest.length < min) {
    const names = spec.args.split(' ').filter((a) => a.startsWith('<'));
    throw new UsageError(`${spec.name}: missing ${names.slice(rest.length).join(' ')}`, spec.name);
  }
}

function buildCommand(name: string, rest: readonly string[], v: Values): Command {
  const str = (key: string): string | undefined => (typeof v[key] === 'string' ? v[key] : undefined);
  const int = (key: string, min: number, max: number): number | undefined => {
    const text = str(key);
    return text === undefined ? undefined : integerArg(`${name}: --${key}`, text, min, max, name);
  };
  const vmid = (): number => integerArg(`${name}: vmid`, rest[0] ?? '', 100, 999_999_999, name);
  switch (name) {
    case 'status':
      return { name: 'status' };
    case 'migrate': {
      const to = str('to');
      if (to === undefined) throw new UsageError('migrate: --to NODE is required', name);
      if (!NODE_NAME.test(to)) throw new UsageError(`migrate: --to: expected a node name, got "${to}"`, name);
      return { name, vmid: vmid(), to, mode: oneOf(name, '--mode', str('mode') ?? 'offline', MIGRATE_MODES) };
    }
    case 'scale': {
      const id = vmid();
      const cores = int('cores', 1, 8192);
      const memoryMiB = int('memory', 16, 4_194_304);
      const swapMiB = int('swap', 0, 4_194_304);
      if (cores === undefined && memoryMiB === undefined && swapMiB === undefined) {
        throw new UsageError('scale: expected at least one of --cores, --memory, --swap', name);
      }
      return {
        name,
        vmid: id,
        ...(cores === undefined ? {} : { cores }),
        ...(memoryMiB === undefined ? {} : { memoryMiB }),
        ...(swapMiB === undefined ? {} : { swapMiB }),
      };
    }
    case 'snapshot':
    case 'rollback': {
      const id = vmid();
      const snapshotName = rest[1] ?? '';
      if (!SNAPSHOT_NAME.test(snapshotName)) {
        throw new UsageError(
          `${name}: name: expected a snapshot name (a letter, then letters, digits, _ or -, up to 40 in all), ` +
            `got "${snapshotName}"`,
          name,
        );
      }
      return { name, vmid: id, snapshotName };
    }
    case 'drop': {
      const mode = str('mode');
      return {
        name,
        vmid: vmid(),
        ...(mode === undefined ? {} : { mode: oneOf(name, '--mode', mode, DROP_MODES) }),
        snapshotFirst: v.snapshot === true,
      };
    }
    case 'generator start': {
      const seed = int('seed', 0, 4_294_967_295);
      const maxContainers = int('max', 1, 1_000_000);
      return {
        name: 'generator',
        action: 'start',
        ...(seed === undefined ? {} : { seed }),
        ...(maxContainers === undefined ? {} : { maxContainers }),
      };
    }
    case 'manager start': {
      const seed = int('seed', 0, 4_294_967_295);
      const automation = str('automation');
      return {
        name: 'manager',
        action: 'start',
        ...(seed === undefined ? {} : { seed }),
        ...(automation === undefined
          ? {}
          : { automation: oneOf(name, '--automation', automation, AUTOMATION) }),
      };
    }
    case 'manager approve': {
      const all = v.all === true;
      if (all && rest.length > 0)
        throw new UsageError('manager approve: give decision ids or --all, not both', name);
      if (!all && rest.length === 0) {
        throw new UsageError('manager approve: expected decision ids (see manager status) or --all', name);
      }
      return { name: 'manager', action: 'approve', ids: [...rest], all };
    }
    case 'manager set':
      return managerSet(rest, str('rule'));
    case 'plan':
      return { name: 'plan' };
    case 'alerts':
      return { name: 'alerts' };
    case 'suggest':
      return { name: 'suggest' };
    case 'autoscale status':
      return { name: 'autoscale', action: 'status' };
    case 'config validate':
      return { name: 'config', action: 'validate', online: v.online === true };
    case 'spread check':
      return { name: 'spread', action: 'check', excludePools: poolList(name, str('exclude-pools')) };
    case 'health-check': {
      const format = str('format');
      const chosen = format === undefined ? undefined : oneOf(name, '--format', format, FORMATS);
      return { name, format: chosen ?? (v.json === true ? 'json' : 'text') };
    }
    case 'history': {
      const id = str('vmid') === undefined ? undefined : int('vmid', 100, 999_999_999);
      const outcome = str('outcome');
      const since = str('since');
      return {
        name,
        ...(id === undefined ? {} : { vmid: id }),
        ...(outcome === undefined ? {} : { outcome: oneOf(name, '--outcome', outcome, historyOutcomes) }),
        ...(since === undefined ? {} : { sinceMs: sinceArg(since) }),
        limit: int('limit', 1, 10_000) ?? 50,
      };
    }
    case 'node drain':
    case 'node undrain': {
      const node = rest[0] ?? '';
      if (!NODE_NAME.test(node)) throw new UsageError(`${name}: expected a node name, got "${node}"`, name);
      if (name === 'node undrain') return { name: 'node', action: 'undrain', node };
      const parallel = int('parallel', 1, 32) ?? DEFAULT_DRAIN_PARALLEL;
      return { name: 'node', action: 'drain', node, parallel, wait: v.wait === true };
    }
    case 'node status':
      return { name: 'node', action: 'status' };
    case 'cancel': {
      const text = rest[0] ?? '';
      if (/^\d+$/.test(text)) return { name, target: { vmid: vmid() } };
      if (!WORKFLOW_ID.test(text)) {
        throw new UsageError(
          `cancel: expected a vmid or a workflow id such as ct-pve-1401, got "${text}"`,
          name,
        );
      }
      return { name, target: { workflowId: text } };
    }
  }
  const [group, action] = name.split(' ');
  if ((group === 'generator' || group === 'manager') && isLoopAction(action)) return { name: group, action };
  throw new Error(`no parser for command "${name}"`);
}

/** `thresholds migratePercent=10` or `automation recommend [--rule lab]`; the manager checks the keys. */
function managerSet(rest: readonly string[], rule: string | undefined): Command {
  const name = 'manager set';
  const [what, ...args] = rest;
  if (what === 'automation') {
    if (args.length !== 1)
      throw new UsageError('manager set automation: expected one level: off, recommend or auto', name);
    return {
      name: 'manager',
      action: 'set-automation',
      level: oneOf(name, 'automation', args[0] ?? '', AUTOMATION),
      ...(rule === undefined ? {} : { rule }),
    };
  }
  if (what !== 'thresholds') {
    throw new UsageError(`manager set: expected thresholds or automation, got "${what ?? ''}"`, name);
  }
  if (rule !== undefined)
    throw new UsageError('manager set thresholds: --rule goes with automation only', name);
  const change: Record<string, number> = {};
  for (const arg of args) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(arg);
    const value = match ? Number(match[2]) : NaN;
    if (!match || !Number.isFinite(value)) {
      throw new UsageError(
        `manager set thresholds: expected KEY=NUMBER such as migratePercent=10, got "${arg}"`,
        name,
      );
    }
    change[match[1] as string] = value;
  }
  return { name: 'manager', action: 'set-thresholds', change };
}

const FORMATS = ['text', 'json'] as const;

/** `--since 30m|2h|7d|90s` (that long ago) or an ISO date/time, as epoch ms. */
function sinceArg(text: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(text);
  if (match) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
    return Date.now() - Number(match[1]) * unit;
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(at)) {
    throw new UsageError(
      `history: --since: expected a duration such as 30m, 2h or 7d, or an ISO time such as 2026-12-01T10:00Z, got "${text}"`,
      'history',
    );
  }
  return at;
}

/** `dns,mail`: pool ids separated by commas; an empty item is a typo. */
function poolList(command: string, text: string | undefined): string[] {
  if (text === undefined) return [];
  const pools = text.split(',').map((p) => p.trim());
  if (pools.some((p) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(p))) {
    throw new UsageError(
      `${command}: --exclude-pools: expected pool ids separated by commas, got "${text}"`,
      command,
    );
  }
  return pools;
}

const NODE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
const SNAPSHOT_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,39}$/;
const WORKFLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}$/;
const MIGRATE_MODES = ['offline', 'restart'] as const;
const DROP_MODES = ['stop', 'destroy'] as const;
const AUTOMATION = ['off', 'recommend', 'auto'] as const;

function isLoopAction(action: string | undefined): action is LoopAction {
  return action === 'pause' || action === 'resume' || action === 'stop' || action === 'status';
}

function oneOf<T extends string>(command: string, what: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${command}: ${what}: expected one of ${allowed.join(', ')}, got "${text}"`, command);
}

/** Decimal digits only: "1e3", "0x10", "12.0" and "-1" are mistakes, not numbers, on a command line. */
export function integerArg(what: string, text: string, min: number, max: number, command?: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${what}: expected an integer from ${min} to ${max}, got "${text}"`, command);
  }
  return n;
}
