// zod schemas for every Proxmox answer the client reads, and the parse step that turns a mismatch
// into a 'bad-response' PveError naming the path and field. Field names stay as PVE spells them.

import { z } from 'zod';
import { PveError } from './errors';
import { isUpid } from './upid';

const NUMERIC = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

// PVE is written in Perl: a number that was once used as a string is serialized as "123".
// Accept numeric strings, reject anything else with zod's own "expected number" message.
const num = z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v), z.number());
const int = z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v), z.number().int());
// Booleans travel as 0/1 (sometimes "0"/"1"), and true/false from newer endpoints.
const flag = z.preprocess(
  (v) => (v === 1 || v === '1' ? true : v === 0 || v === '0' ? false : v),
  z.boolean(),
);

/** PVE stores tags as one string separated by ';' (accepts ',' and spaces on input). */
export function splitTags(tags: string | undefined): string[] {
  if (!tags) return [];
  return tags.split(/[;,\s]+/).filter((t) => t.length > 0);
}

const tags = z.string().transform(splitTags);

export const upidSchema = z
  .string()
  .refine(isUpid, { message: 'expected a UPID (UPID:node:pid:pstart:starttime:type:id:user:)' });

export const versionSchema = z.object({
  version: z.string(),
  release: z.string(),
  repoid: z.string(),
});
export type PveVersion = z.output<typeof versionSchema>;

/** GET /cluster/resources: one entry per node, guest, storage, pool, sdn... */
export const clusterResourceSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    node: z.string().optional(),
    vmid: int.optional(),
    name: z.string().optional(),
    status: z.string().optional(),
    cpu: num.optional(),
    maxcpu: num.optional(),
    mem: num.optional(),
    maxmem: num.optional(),
    disk: num.optional(),
    maxdisk: num.optional(),
    uptime: num.optional(),
    netin: num.optional(),
    netout: num.optional(),
    template: flag.optional(),
    pool: z.string().optional(),
    tags: z.string().optional(),
    lock: z.string().optional(),
    hastate: z.string().optional(),
    storage: z.string().optional(),
    content: z.string().optional(),
    shared: flag.optional(),
    plugintype: z.string().optional(),
  })
  .superRefine((r, ctx) => {
    // The fields the snapshot mapper cannot do without.
    if ((r.type === 'lxc' || r.type === 'qemu') && r.vmid === undefined)
      ctx.addIssue({ code: 'custom', path: ['vmid'], message: `required for type '${r.type}'` });
    if ((r.type === 'lxc' || r.type === 'qemu' || r.type === 'node') && r.node === undefined)
      ctx.addIssue({ code: 'custom', path: ['node'], message: `required for type '${r.type}'` });
  });
export type ClusterResource = z.output<typeof clusterResourceSchema>;
export const clusterResourcesSchema = z.array(clusterResourceSchema);

export const nodeListEntrySchema = z.object({
  node: z.string(),
  status: z.enum(['online', 'offline', 'unknown']),
  cpu: num.optional(),
  maxcpu: num.optional(),
  mem: num.optional(),
  maxmem: num.optional(),
  uptime: num.optional(),
  ssl_fingerprint: z.string().optional(),
});
export type NodeListEntry = z.output<typeof nodeListEntrySchema>;

const memoryTriple = z.object({ total: num, used: num, free: num });

export const nodeStatusSchema = z.object({
  cpu: num,
  wait: num.optional(),
  loadavg: z.array(num),
  memory: memoryTriple.extend({ available: num.optional() }),
  swap: memoryTriple.optional(),
  rootfs: memoryTriple.extend({ avail: num }),
  cpuinfo: z.object({
    cpus: int,
    cores: int.optional(),
    sockets: int.optional(),
    model: z.string().optional(),
    mhz: z.union([z.string(), z.number()]).optional(),
  }),
  uptime: num.optional(),
  pveversion: z.string(),
});
export type NodeStatusDetail = z.output<typeof nodeStatusSchema>;

export const nextIdSchema = int;

/**
 * GET /nodes/{node}/lxc/{vmid}/config. Keys not listed (net0, mp0, features, ...) are kept as they
 * came; `digest` is what an update must send back.
 */
export const containerConfigSchema = z.looseObject({
  digest: z.string().min(1),
  hostname: z.string().optional(),
  cores: int.optional(),
  cpulimit: num.optional(),
  memory: int.optional(),
  swap: int.optional(),
  rootfs: z.string().optional(),
  ostype: z.string().optional(),
  arch: z.string().optional(),
  tags: tags.optional(),
  lock: z.string().optional(),
  description: z.string().optional(),
  onboot: flag.optional(),
  protection: flag.optional(),
  template: flag.optional(),
  unprivileged: flag.optional(),
});
export type ContainerConfig = z.output<typeof containerConfigSchema>;

/** GET /nodes/{node}/lxc/{vmid}/status/current. */
export const containerStatusSchema = z.object({
  vmid: int,
  status: z.enum(['running', 'stopped']),
  name: z.string().optional(),
  cpu: num.optional(),
  cpus: num.optional(),
  mem: num.optional(),
  maxmem: num.optional(),
  swap: num.optional(),
  maxswap: num.optional(),
  disk: num.optional(),
  maxdisk: num.optional(),
  uptime: num.optional(),
  netin: num.optional(),
  netout: num.optional(),
  lock: z.string().optional(),
  tags: tags.optional(),
  template: flag.optional(),
  ha: z.looseObject({ managed: flag.optional(), state: z.string().optional() }).optional(),
});
export type ContainerRuntimeStatus = z.output<typeof containerStatusSchema>;

export const snapshotEntrySchema = z.object({
  name: z.string(),
  description: z.string().default(''),
  parent: z.string().optional(),
  snaptime: int.optional(),
  /** Only on the 'current' pseudo-entry. */
  running: flag.optional(),
});
export type SnapshotEntry = z.output<typeof snapshotEntrySchema>;
export const snapshotListSchema = z.array(snapshotEntrySchema);

const taskIdentity = {
  upid: upidSchema,
  node: z.string(),
  pid: int,
  pstart: int,
  starttime: int,
  type: z.string(),
  id: z.string(),
  user: z.string(),
};

/** GET /nodes/{node}/tasks/{upid}/status. */
export const taskStatusSchema = z.object({
  ...taskIdentity,
  status: z.enum(['running', 'stopped']),
  exitstatus: z.string().optional(),
});
export type TaskStatus = z.output<typeof taskStatusSchema>;

export const taskLogLineSchema = z.object({ n: int, t: z.string() });
export type TaskLogLine = z.output<typeof taskLogLineSchema>;
export const taskLogSchema = z.array(taskLogLineSchema);

/** GET /nodes/{node}/tasks: `status` is the exit status once finished, absent while running. */
export const taskSummarySchema = z.object({
  ...taskIdentity,
  status: z.string().optional(),
  endtime: int.optional(),
});
export type TaskSummary = z.output<typeof taskSummarySchema>;
export const taskListSchema = z.array(taskSummarySchema);

export const poolMemberSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  node: z.string().optional(),
  vmid: int.optional(),
  storage: z.string().optional(),
});
export const poolEntrySchema = z.object({
  poolid: z.string(),
  comment: z.string().optional(),
  members: z.array(poolMemberSchema).optional(),
});
export type PoolEntry = z.output<typeof poolEntrySchema>;
export const poolListSchema = z.array(poolEntrySchema);

/** GET /access/permissions: path → privilege → 1/0 (propagate); PVE sends the flag as an integer. */
export const permissionsSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.union([z.number(), z.boolean()]).transform((v) => Number(v)),
  ),
);

export const storageVolumeSchema = z.object({
  volid: z.string(),
  format: z.string(),
  size: num,
  content: z.string().optional(),
  ctime: int.optional(),
  vmid: int.optional(),
  notes: z.string().optional(),
});
export type StorageVolume = z.output<typeof storageVolumeSchema>;
export const storageContentSchema = z.array(storageVolumeSchema);

/** PUT/DELETE calls that answer `null`; anything else means we are not talking to what we think. */
export const nullSchema = z.null();

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = 'data';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

/**
 * Parses an API answer. On mismatch throws a non-retryable 'bad-response' PveError whose message
 * names the call and the first offending fields, e.g. `GET /cluster/resources: data[3].maxmem: ...`.
 */
export function parseResponse<S extends z.ZodType>(
  schema: S,
  data: unknown,
  where: { method: string; path: string },
): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const shown = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : '';
  throw new PveError({
    kind: 'bad-response',
    method: where.method,
    path: where.path,
    issues,
    message: `${where.method} ${where.path}: unexpected answer: ${shown}${more}`,
  });
}
