// What `npm start` writes into pve-autopilot.yaml besides the connection: the scope, zones, generator
// and lab settings that fit the pve-sim scenario it runs, so that the manager manages the scenario's
// containers and the generator can place into it. The lab's defaults fit the lab scenarios; the
// others get their managed vmid range, their zones, every node weighted alike, and a generation
// limit (and lab thresholds) above the load the scenario starts with.
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config';
import type { ScenarioSpec } from '../../simulator/index';

const MiB_PER_GiB = 1024;

export interface StackSettings {
  scope: { vmidMin: number; vmidMax: number };
  /** Zone name → node names, from the scenario's nodes; absent when it has no zones. */
  zones?: Record<string, string[]>;
  generator: { limitPercent: number; nodeWeights: Record<string, number> };
  lab: { migratePercent: number; dropPercent: number };
}

/** The scenario's managed vmids; the lab's range when it names none. */
function managedRangeOf(spec: ScenarioSpec): { min: number; max: number } {
  const { vmidMin, vmidMax } = defaultConfig().scope;
  return spec.managedRange ?? { min: vmidMin, max: vmidMax };
}

/** Each node's memory held by the scenario's managed containers, in percent, ascending. */
function managedPercents(spec: ScenarioSpec): number[] {
  const { min, max } = managedRangeOf(spec);
  return spec.nodes
    .map((n) => {
      const mib = spec.containers
        .filter((c) => c.node === n.name && c.vmid >= min && c.vmid <= max)
        .reduce((sum, c) => sum + c.memoryMiB, 0);
      return (mib * 100) / (n.memGiB * MiB_PER_GiB);
    })
    .sort((a, b) => a - b);
}

export function stackSettingsFor(spec: ScenarioSpec): StackSettings {
  const defaults = defaultConfig();
  const names = new Set(spec.nodes.map((n) => n.name));
  // The lab's weights name its own two nodes; on another cluster they would place nowhere.
  const weights = defaults.generator.nodeWeights;
  const nodeWeights = Object.keys(weights).every((n) => names.has(n)) ? { ...weights } : {};
  const loads = managedPercents(spec);
  const median = loads[Math.floor(loads.length / 2)] ?? 0;
  const open = loads.filter((p) => p < defaults.generator.limitPercent).length;
  // The lab's limit while it leaves at least half the nodes open; else the next 5 % above the
  // median load plus 5, so half the nodes take new containers.
  const fits = open * 2 >= loads.length;
  const limitPercent = fits ? defaults.generator.limitPercent : Math.min(95, Math.ceil(median / 5) * 5 + 5);
  // Where the lab's thresholds (8 % and 12 %) sit below the load the scenario starts with, the lab
  // rule would destroy a container on every node at once: a node sheds load above the generation
  // limit instead, and drops start well above it.
  const lab =
    fits && loads.every((p) => p <= defaults.lab.dropPercent)
      ? { migratePercent: defaults.lab.migratePercent, dropPercent: defaults.lab.dropPercent }
      : { migratePercent: limitPercent, dropPercent: Math.min(100, limitPercent + 20) };
  const zones: Record<string, string[]> = {};
  for (const n of spec.nodes) if (n.zone !== undefined) (zones[n.zone] ??= []).push(n.name);
  return {
    scope: { vmidMin: managedRangeOf(spec).min, vmidMax: managedRangeOf(spec).max },
    ...(Object.keys(zones).length > 0 ? { zones } : {}),
    generator: { limitPercent, nodeWeights },
    lab,
  };
}

export const STACK_CONFIG_MARK = '# Written by `npm start` for its embedded pve-sim and Temporal dev server.';

/** Where the stack's CLI and worker find Temporal and pve-sim. */
export interface StackConnection {
  temporalAddress: string;
  /** The Web UI, so the CLI's links follow --ui-port. */
  uiUrl: string;
  host: string;
  port: number;
  tokenId: string;
  tokenSecret: string;
  caFile: string;
}

/** pve-autopilot.yaml as `npm start` writes it: the connection, then the scenario's settings. */
export function stackConfigText(c: StackConnection, spec: ScenarioSpec): string {
  return [
    STACK_CONFIG_MARK,
    '# It is rewritten on every start while this first line is here; remove the line to keep your edits.',
    '# Every setting and its default: pve-autopilot.example.yaml.',
    'temporal:',
    `  address: ${c.temporalAddress}`,
    `  uiUrl: ${c.uiUrl}`,
    'proxmox:',
    `  host: ${c.host}`,
    `  port: ${c.port}`,
    `  tokenId: ${c.tokenId}`,
    `  tokenSecret: ${c.tokenSecret}`,
    `  caFile: ${c.caFile}`,
    ...scenarioLines(spec),
    '',
  ].join('\n');
}

/** The scenario's settings as YAML lines. */
function scenarioLines(spec: ScenarioSpec): string[] {
  const { zones, ...rest } = stackSettingsFor(spec);
  const lines = [`# Fitted to the pve-sim scenario ${spec.name}.`, ...stringify(rest).trimEnd().split('\n')];
  if (zones === undefined) return lines;
  return [
    ...lines,
    'zones:',
    ...Object.entries(zones).map(([zone, nodes]) => `  ${zone}: [${nodes.join(', ')}]`),
  ];
}
