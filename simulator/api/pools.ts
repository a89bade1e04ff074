// Pool endpoints: /pools (PVE 8.1+ style, poolid as a parameter) and the older /pools/{poolid}.
import { fail } from '../errors.js';
import type { SimPool } from '../model/cluster.js';
import type { ApiContext } from './context.js';
import { ctResource, storageResource, storageUsage, type Json } from './views.js';

function pool(ctx: ApiContext): SimPool {
  const id = String(ctx.params.poolid);
  const p = ctx.world.cluster.pools.get(id);
  if (!p) fail(`pool '${id}' does not exist`);
  return p;
}

function members(ctx: ApiContext, p: SimPool): Json[] {
  const { cluster: c, time } = ctx.world;
  const type = ctx.params.type;
  const out: Json[] = [];
  if (type === undefined || type === 'lxc')
    for (const ct of c.list()) if (ct.pool === p.poolid) out.push(ctResource(c, ct, time));
  if (type === undefined || type === 'storage') {
    const used = storageUsage(c);
    for (const id of p.storage)
      for (const n of c.nodes.values()) {
        const s = c.storage(id, n.name);
        if (s) out.push(storageResource(s, n, used));
      }
  }
  return out;
}

export function listPools(ctx: ApiContext): unknown {
  if (ctx.params.poolid !== undefined) {
    const p = pool(ctx);
    return [{ poolid: p.poolid, comment: p.comment ?? '', members: members(ctx, p) }];
  }
  return [...ctx.world.cluster.pools.values()].map((p) =>
    p.comment === undefined ? { poolid: p.poolid } : { poolid: p.poolid, comment: p.comment },
  );
}

export function readPool(ctx: ApiContext): unknown {
  const p = pool(ctx);
  const e: Json = { members: members(ctx, p) };
  if (p.comment !== undefined) e.comment = p.comment;
  return e;
}

export function createPool(ctx: ApiContext): unknown {
  const id = String(ctx.params.poolid);
  const c = ctx.world.cluster;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(id)) fail(`invalid pool ID '${id}'`);
  if (c.pools.has(id)) fail(`pool '${id}' already exists`);
  c.pools.set(id, {
    poolid: id,
    comment: ctx.params.comment === undefined ? undefined : String(ctx.params.comment),
    storage: [],
  });
  return null;
}

export function updatePool(ctx: ApiContext): unknown {
  const p = pool(ctx);
  const c = ctx.world.cluster;
  const remove = ctx.params.delete === true;
  const allowMove = ctx.params['allow-move'] === true;
  if (ctx.params.comment !== undefined) p.comment = String(ctx.params.comment);
  const list = (key: string): string[] =>
    ctx.params[key] === undefined
      ? []
      : String(ctx.params[key])
          .split(/[,;\s]+/)
          .filter(Boolean);
  const vmids = list('vms').map(Number);
  for (const vmid of vmids) {
    const ct = c.containers.get(vmid);
    if (!ct) fail(`no such VMID '${vmid}'`);
    if (remove) {
      if (ct.pool === p.poolid) delete ct.pool;
    } else if (ct.pool !== p.poolid) {
      if (ct.pool && !allowMove) fail(`VM ${vmid} belongs already to pool '${ct.pool}'`);
      ct.pool = p.poolid;
    }
  }
  for (const id of list('storage')) {
    if (!c.storages.some((s) => s.id === id)) fail(`no such storage '${id}'`);
    if (remove) p.storage = p.storage.filter((s) => s !== id);
    else if (!p.storage.includes(id)) p.storage.push(id);
  }
  return null;
}

export function deletePool(ctx: ApiContext): unknown {
  const p = pool(ctx);
  const c = ctx.world.cluster;
  if (p.storage.length > 0 || c.list().some((ct) => ct.pool === p.poolid))
    fail(`pool '${p.poolid}' is not empty`);
  c.pools.delete(p.poolid);
  return null;
}
