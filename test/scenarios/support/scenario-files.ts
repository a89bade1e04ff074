// The files of one golden scenario folder, read and validated: cluster.yaml (a pve-sim scenario plus
// edits), config.yaml (pve-autopilot config sections), events.yaml (what happens when) and
// expected.log (what the manager decided, written by the runner).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseConfig, type Config } from '../../../src/config';
import { loadScenario, type ContainerSpec, type ScenarioSpec } from '../../../simulator/index';

const vmid = z.number().int().min(100);
const workload = z.record(z.string(), z.unknown());

const containerEdit = z.strictObject({
  vmid,
  node: z.string().optional(),
  hostname: z.string().optional(),
  cores: z.number().int().min(1).optional(),
  memoryMiB: z.number().int().min(16).optional(),
  swapMiB: z.number().int().min(0).optional(),
  diskGiB: z.number().min(1).optional(),
  diskUsedGiB: z.number().min(0).optional(),
  status: z.enum(['running', 'stopped']).optional(),
  tags: z.array(z.string()).optional(),
  pool: z.string().optional(),
  lock: z.string().optional(),
  workload: workload.optional(),
});

const clusterFile = z.strictObject({
  /** A pve-sim scenario name. */
  base: z.string(),
  /** Node edits by name (memGiB, cpus, online). */
  nodes: z
    .record(
      z.string(),
      z.strictObject({
        memGiB: z.number().positive().optional(),
        cpus: z.number().int().min(1).optional(),
        online: z.boolean().optional(),
      }),
    )
    .default({}),
  /** Containers changed (by vmid) or added (a new vmid: node is required). */
  containers: z.array(containerEdit).default([]),
  /** Containers taken out of the base scenario. */
  remove: z.array(vmid).default([]),
});

/** When an event happens: before the observation of a cycle, or at a simulated second. */
const when = { cycle: z.number().int().min(1).optional(), second: z.number().min(0).optional() };

const eventSchema = z
  .strictObject({
    ...when,
    usage: z
      .strictObject({ vmid, memMiB: z.number().min(0).optional(), cpu: z.number().optional() })
      .optional(),
    fault: z.record(z.string(), z.unknown()).optional(),
    clearFaults: z.literal(true).optional(),
    offline: z.string().optional(),
    online: z.string().optional(),
    lock: z.strictObject({ vmid, lock: z.string() }).optional(),
    unlock: vmid.optional(),
    add: z
      .strictObject({
        vmid,
        node: z.string(),
        memoryMiB: z.number().int().min(16),
        cores: z.number().int().min(1).default(1),
      })
      .optional(),
    remove: vmid.optional(),
    /** Decision ids, or ["all"]. */
    approve: z.array(z.string()).min(1).optional(),
    /** A node the manager counts as drained from then on (no container goes to it). */
    drain: z.string().optional(),
  })
  .refine((e) => (e.cycle === undefined) !== (e.second === undefined), {
    message: 'expected exactly one of cycle, second',
  })
  .refine((e) => Object.keys(e).filter((k) => k !== 'cycle' && k !== 'second').length === 1, {
    message: 'expected exactly one thing to happen per event',
  });

export type ScenarioEvent = z.output<typeof eventSchema>;

const eventsFile = z.strictObject({
  /** Monitoring cycles to run. */
  cycles: z.number().int().min(1).max(200),
  /** KiB/s for every migration the runner executes; low values keep migrations in flight for cycles. */
  migrateBwlimitKiB: z.number().int().min(1).optional(),
  events: z.array(eventSchema).default([]),
});

export interface Scenario {
  name: string;
  dir: string;
  description: string;
  spec: ScenarioSpec;
  config: Config;
  cycles: number;
  migrateBwlimitKiB: number | undefined;
  events: ScenarioEvent[];
}

export async function readScenario(dir: string, name: string): Promise<Scenario> {
  const read = (file: string): Promise<string> => readFile(join(dir, file), 'utf8');
  const cluster = parseFile(clusterFile, await read('cluster.yaml'), `${name}/cluster.yaml`);
  const events = parseFile(eventsFile, await read('events.yaml'), `${name}/events.yaml`);
  const configText = await read('config.yaml');
  const description = (await read('README.md').catch(() => '')).trim().split('\n')[0] ?? '';
  return {
    name,
    dir,
    description: description.replace(/^#\s*/, ''),
    spec: editedSpec(cluster),
    config: parseConfig(configText, {}, { source: `${name}/config.yaml` }),
    cycles: events.cycles,
    migrateBwlimitKiB: events.migrateBwlimitKiB,
    events: events.events,
  };
}

function parseFile<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  const result = schema.safeParse(parse(text) ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new Error(`${source}: ${problems.join('; ')}`);
}

function editedSpec(file: z.output<typeof clusterFile>): ScenarioSpec {
  const spec = loadScenario(file.base, 1);
  for (const [name, edit] of Object.entries(file.nodes)) {
    const node = spec.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`cluster.yaml: nodes.${name}: no such node in ${file.base}`);
    Object.assign(node, edit);
  }
  spec.containers = spec.containers.filter((c) => !file.remove.includes(c.vmid));
  for (const edit of file.containers) {
    const existing = spec.containers.find((c) => c.vmid === edit.vmid);
    if (existing) {
      Object.assign(existing, edit);
      continue;
    }
    if (edit.node === undefined)
      throw new Error(`cluster.yaml: CT ${edit.vmid}: expected a node for a new CT`);
    const added: ContainerSpec = {
      hostname: `ct-${edit.vmid}`,
      cores: 1,
      memoryMiB: 512,
      swapMiB: 0,
      diskGiB: 8,
      status: 'running',
      pool: 'autopilot',
      tags: ['autopilot'],
      ...edit,
      node: edit.node,
      workload: (edit.workload ?? {
        profile: 'steady',
        cpu: 0.05,
        memMiB: 100,
      }) as unknown as ContainerSpec['workload'],
    };
    spec.containers.push(added);
  }
  return spec;
}
