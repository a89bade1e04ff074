// Cluster-wide endpoints: version, status, resources, nextid, HA resources, cluster task list.
import { createHash } from 'node:crypto';
import { paramError } from '../errors.js';
import type { SimContainer } from '../model/cluster.js';
import type { World } from '../world.js';
import { RawJson, type ApiContext } from './context.js';
import { ctResource, nodeResource, storageResource, storageUsage, type Json } from './views.js';
import { taskEntry } from './tasks.js';

export const PVE_VERSION = { version: '9.1.1', release: '9.1', repoid: '42db4a6cf33dac83' };

export function version(): unknown {
  return { ...PVE_VERSION };
}

export function clusterStatus(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const nodes = [...c.nodes.values()];
  const online = nodes.filter((n) => n.online).length;
  const local = nodes[0]?.name;
  return [
    {
      type: 'cluster',
      id: 'cluster',
      name: c.name,
      nodes: nodes.length,
      quorate: online * 2 > nodes.length ? 1 : 0,
      version: nodes.length + 3,
    },
    ...nodes.map((n) => ({
      type: 'node',
      id: `node/${n.name}`,
      name: n.name,
      ip: n.ip,
      level: '',
      local: n.name === local ? 1 : 0,
      nodeid: n.nodeid,
      online: n.online ? 1 : 0,
    })),
  ];
}

/**
 * The answer is cached until the model changes (a metrics tick, a task step, any write): PVE builds
 * it from pvestatd's 10-second figures too, and it is the call every monitoring cycle makes.
 */
const resourceCache = new WeakMap<World, Map<string, { version: number; json: RawJson }>>();

export function resources(ctx: ApiContext): unknown {
  const w = ctx.world;
  const key = String(ctx.params.type ?? '');
  let cache = resourceCache.get(w);
  if (!cache) resourceCache.set(w, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.version === w.version) return hit.json;
  const json = new RawJson(JSON.stringify(buildResources(ctx)));
  cache.set(key, { version: w.version, json });
  return json;
}

function buildResources(ctx: ApiContext): Json[] {
  const { cluster: c, time } = ctx.world;
  const type = ctx.params.type;
  const out: Json[] = [];
  if (type === undefined || type === 'vm') for (const ct of c.list()) out.push(ctResource(c, ct, time));
  if (type === undefined || type === 'node')
    for (const n of c.nodes.values()) out.push(nodeResource(n, time));
  if (type === undefined || type === 'storage') {
    const used = storageUsage(c);
    for (const n of c.nodes.values())
      for (const s of c.storagesOn(n.name)) out.push(storageResource(s, n, used));
  }
  if (type === undefined)
    for (const p of c.pools.values()) out.push({ id: `/pool/${p.poolid}`, type: 'pool', pool: p.poolid });
  if (type === undefined || type === 'sdn')
    for (const n of c.nodes.values())
      out.push({
        id: `sdn/${n.name}/localnetwork`,
        type: 'sdn',
        sdn: 'localnetwork',
        node: n.name,
        status: n.online ? 'ok' : 'unknown',
      });
  return out;
}

/** PVE returns the id as a JSON string. */
export function nextid(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  if (ctx.params.vmid !== undefined) {
    const vmid = Number(ctx.params.vmid);
    if (c.containers.has(vmid)) paramError({ vmid: `VM ${vmid} already exists` });
    return String(vmid);
  }
  return String(c.nextFreeVmid());
}

/** HA's name for a guest: `ct:101` or `vm:200`. */
export function haSid(ct: SimContainer): string {
  return `${haType(ct)}:${ct.vmid}`;
}

function haType(ct: SimContainer): 'ct' | 'vm' {
  return ct.type === 'qemu' ? 'vm' : 'ct';
}

export function haResource(ct: SimContainer): Json {
  return { sid: haSid(ct), type: haType(ct), state: ct.ha!.state, max_relocate: 1, max_restart: 1 };
}

export function haResources(ctx: ApiContext): unknown {
  return ctx.world.cluster
    .list()
    .filter((ct) => ct.ha && (ctx.params.type === undefined || ctx.params.type === haType(ct)))
    .map(haResource);
}

/** The cluster task log: recent tasks of every node, newest first. */
export function clusterTasks(ctx: ApiContext): unknown {
  const all = ctx.world.tasks.all().sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  return all.slice(0, 200).map(taskEntry);
}

/** GET /cluster/options: datacenter.cfg; the keys an auditor may see are all pve-sim sets. */
export function clusterOptions(): unknown {
  return { keyboard: 'en-us', mac_prefix: 'BC:24:11', console: 'html5' };
}

/** Backup jobs and replication jobs: pve-sim schedules none. */
export const noJobs = (): unknown => [];

/** GET /storage: the storage configuration (storage.cfg), optionally of one type. */
export function storageConfig(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const digest = createHash('sha1').update(JSON.stringify(c.storages)).digest('hex');
  return c.storages
    .filter((s) => ctx.params.type === undefined || s.type === ctx.params.type)
    .map((s) => {
      const e: Json = { storage: s.id, type: s.type, content: s.content.join(','), digest };
      if (s.shared) e.shared = 1;
      if (s.nodes) e.nodes = s.nodes.join(',');
      if (s.type === 'dir') e.path = '/var/lib/vz';
      if (s.type === 'lvmthin') {
        e.vgname = 'pve';
        e.thinpool = 'data';
      }
      if (s.type === 'rbd') e.pool = s.id;
      return e;
    });
}
