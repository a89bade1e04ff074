// --help text, rendered from the command table so that it lists exactly what the parser accepts,
// with the exit codes on every page (scripts branch on them).
import { exitCodeHelp } from './exit-codes';
import {
  commandGroups,
  commandSpecs,
  globalOptions,
  specOf,
  type CommandSpec,
  type OptionSpec,
} from './spec';

const ENVIRONMENT = [
  'PROXMOX_HOST, PROXMOX_PORT, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET, PROXMOX_CA_FILE, ... and',
  'TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, ... override the config file.',
  'TEMPORAL_UI_URL  base of Web UI links (default http://<temporal host>:8233)',
  'TEMPORAL_CONNECT_TIMEOUT_MS  how long to wait for Temporal (default 5000)',
];

/** The help page of a command ("migrate", "generator start"), a group ("generator") or the program. */
export function helpText(topic?: string): string {
  const spec = topic === undefined ? undefined : specOf(topic);
  if (spec !== undefined) return commandHelp(spec);
  if (topic !== undefined && topic in commandGroups) return groupHelp(topic);
  return programHelp();
}

function programHelp(): string {
  const rows = commandSpecs.map((s) => [`${s.name}${s.args ? ` ${s.args}` : ''}`, s.summary] as const);
  return [
    'pve-autopilot: run a Proxmox VE LXC fleet through durable Temporal workflows',
    '',
    'Usage: pve-autopilot <command> [options]',
    '',
    'Commands:',
    ...columns(rows),
    '',
    'Global options:',
    ...optionLines(globalOptions),
    '',
    ...exitCodeLines(),
    '',
    'Environment:',
    ...ENVIRONMENT.map((l) => `  ${l}`),
    '',
    'Run "pve-autopilot <command> --help" for the options of a command.',
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const specs = commandSpecs.filter((s) => s.name.startsWith(`${group} `));
  return [
    `pve-autopilot ${group}: ${commandGroups[group] ?? ''}`,
    '',
    `Usage: pve-autopilot ${group} <action> [options]`,
    '',
    'Actions:',
    ...columns(
      specs.map((s) => [`${s.name.slice(group.length + 1)}${s.args ? ` ${s.args}` : ''}`, s.summary]),
    ),
    '',
    `Run "pve-autopilot ${group} <action> --help" for the options of an action.`,
    '',
  ].join('\n');
}

function commandHelp(spec: CommandSpec): string {
  const usage = [
    `pve-autopilot ${spec.name}`,
    spec.args,
    ...Object.entries(spec.options).map(([name, o]) => {
      const flag = `--${name}${o.value ? ` ${o.value}` : ''}`;
      return name === 'to' ? flag : `[${flag}]`;
    }),
  ].filter(Boolean);
  const own = Object.keys(spec.options).length > 0 ? ['Options:', ...optionLines(spec.options), ''] : [];
  const notes = spec.notes ? [...spec.notes, ''] : [];
  return [
    `Usage: ${usage.join(' ')}`,
    '',
    `${spec.summary[0]?.toUpperCase() ?? ''}${spec.summary.slice(1)}.`,
    '',
    ...own,
    'Global options:',
    ...optionLines(globalOptions),
    '',
    ...notes,
    ...exitCodeLines(),
    '',
  ].join('\n');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return columns(
    Object.entries(options).map(([name, o]) => [
      `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`,
      o.help,
    ]),
  );
}

function exitCodeLines(): string[] {
  return ['Exit codes:', ...exitCodeHelp.map(([code, text]) => `  ${code}  ${text}`)];
}

function columns(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  );
}
