// Container endpoints under /nodes/{node}/lxc: list, create, destroy, config, status, power,
// migrate, rrd history and snapshots. Checks and tasks live in lxc.ts; this maps the API onto them.
import { PveError, fail } from '../errors.js';
import { CT_RRD_FIELDS } from '../model/cluster.js';
import type { RrdFrame } from '../model/rrd.js';
import { user, type ApiContext } from './context.js';
import { ctStatus, type Json } from './views.js';

const node = (ctx: ApiContext): string => String(ctx.params.node);
const vmid = (ctx: ApiContext): number => Number(ctx.params.vmid);

export function list(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  c.node(node(ctx));
  return c
    .list()
    .filter((ct) => ct.type === 'lxc' && ct.node === node(ctx))
    .map((ct) => ctStatus(c, ct, ctx.world.time));
}

export function create(ctx: ApiContext): unknown {
  // POST /nodes/{node}/lxc has no static check: VM.Allocate on /vms/{vmid} is checked by the handler.
  if (ctx.principal && !ctx.auth.has(ctx.principal, ['VM.Allocate'], false))
    throw new PveError(403, `Permission check failed (/vms/${vmid(ctx)}, VM.Allocate)`);
  return ctx.ops.create(node(ctx), ctx.params, user(ctx));
}

export function destroy(ctx: ApiContext): unknown {
  return ctx.ops.destroy(node(ctx), vmid(ctx), ctx.params, user(ctx));
}

export function getConfig(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const ct = c.ct(node(ctx), vmid(ctx));
  if (ctx.params.snapshot !== undefined) {
    const snap = ct.snapshots.find((s) => s.name === ctx.params.snapshot);
    if (!snap) throw new PveError(500, `snapshot '${String(ctx.params.snapshot)}' does not exist`);
    return { ...snap.config, snaptime: snap.snaptime, digest: c.digest(ct) };
  }
  const out: Json = { ...ct.config };
  if (ct.parent) out.parent = ct.parent;
  out.digest = c.digest(ct);
  return out;
}

export function putConfig(ctx: ApiContext): unknown {
  ctx.ops.updateConfig(node(ctx), vmid(ctx), ctx.params);
  return null;
}

export function statusCurrent(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const ct = c.ct(node(ctx), vmid(ctx));
  const e = ctStatus(c, ct, ctx.world.time);
  e.ha = ct.ha ? { managed: 1, state: ct.ha.state } : { managed: 0 };
  return e;
}

export const start = (ctx: ApiContext): unknown => ctx.ops.start(node(ctx), vmid(ctx), ctx.params, user(ctx));
export const stop = (ctx: ApiContext): unknown => ctx.ops.stop(node(ctx), vmid(ctx), ctx.params, user(ctx));
export const shutdown = (ctx: ApiContext): unknown =>
  ctx.ops.shutdown(node(ctx), vmid(ctx), ctx.params, user(ctx));
export const reboot = (ctx: ApiContext): unknown =>
  ctx.ops.reboot(node(ctx), vmid(ctx), ctx.params, user(ctx));
export const migrate = (ctx: ApiContext): unknown =>
  ctx.ops.migrate(node(ctx), vmid(ctx), ctx.params, user(ctx));

/**
 * A guest's rrd history. PVE reads the rrd file by vmid alone (both /lxc and /qemu paths read
 * pve-vm-9.0/<vmid>, which every node holds), so it answers for any guest, on any node, at either path.
 */
export function rrddata(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const id = vmid(ctx);
  const ct = c.containers.get(id);
  if (!ct) fail(`RRD error: opening '/var/lib/rrdcached/db/pve-vm-9.0/${id}': No such file or directory`);
  const frame = String(ctx.params.timeframe) as RrdFrame;
  const cf = ctx.params.cf === 'MAX' ? 'MAX' : 'AVERAGE';
  return ct.rrd.fetch(frame, cf, Math.floor(ctx.world.time / 1000)).map(({ time, values }) => {
    const e: Json = { time };
    if (!values) return e;
    CT_RRD_FIELDS.forEach(
      (f, i) => (e[f] = f === 'cpu' ? Math.round(values[i]! * 1e6) / 1e6 : Math.round(values[i]!)),
    );
    e.maxcpu = c.maxcpu(ct);
    e.maxmem = c.maxmem(ct);
    e.maxdisk = c.maxdisk(ct);
    return e;
  });
}

/** GET .../pending: every config key with its current value (pve-sim keeps no pending changes). */
export function pendingEntries(config: Record<string, string | number>, digest: string): Json[] {
  return [...Object.keys(config).sort(), 'digest'].map((key) => ({
    key,
    value: key === 'digest' ? digest : String(config[key]),
  }));
}

export function pending(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const ct = c.ct(node(ctx), vmid(ctx));
  return pendingEntries(ct.config, c.digest(ct));
}

export function snapshots(ctx: ApiContext): unknown {
  const ct = ctx.world.cluster.ct(node(ctx), vmid(ctx));
  const out: Json[] = ct.snapshots.map((s) => {
    const e: Json = { name: s.name, description: s.description, snaptime: s.snaptime };
    if (s.parent) e.parent = s.parent;
    return e;
  });
  const current: Json = {
    name: 'current',
    description: 'You are here!',
    running: ct.status === 'running' ? 1 : 0,
  };
  if (ct.parent) current.parent = ct.parent;
  out.push(current);
  return out;
}

export const snapshot = (ctx: ApiContext): unknown =>
  ctx.ops.snapshot(node(ctx), vmid(ctx), ctx.params, user(ctx));
export const deleteSnapshot = (ctx: ApiContext): unknown =>
  ctx.ops.deleteSnapshot(node(ctx), vmid(ctx), String(ctx.params.snapname), ctx.params, user(ctx));
export const rollback = (ctx: ApiContext): unknown =>
  ctx.ops.rollback(node(ctx), vmid(ctx), String(ctx.params.snapname), ctx.params, user(ctx));

/**
 * GET .../interfaces: what the running CT reports (lo and one entry per NIC), each address given
 * both the old way (inet, hwaddr) and PVE 9's (ip-addresses, hardware-address).
 */
export function interfaces(ctx: ApiContext): unknown {
  const ct = ctx.world.cluster.ct(node(ctx), vmid(ctx));
  if (ct.status !== 'running') fail(`CT ${ct.vmid} not running`);
  const entry = (name: string, mac: string, v4: string, v6: string): Json => ({
    name,
    hwaddr: mac,
    'hardware-address': mac,
    inet: v4,
    inet6: v6,
    'ip-addresses': [v4, v6].map((a) => ({
      'ip-address': a.split('/')[0],
      'ip-address-type': a.includes(':') ? 'inet6' : 'inet',
      prefix: Number(a.split('/')[1]),
    })),
  });
  const out = [entry('lo', '00:00:00:00:00:00', '127.0.0.1/8', '::1/128')];
  for (const key of Object.keys(ct.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort()) {
    const props = String(ct.config[key]);
    const name = /(?:^|,)name=([^,]+)/.exec(props)?.[1] ?? key;
    const mac = /(?:^|,)hwaddr=([^,]+)/.exec(props)?.[1] ?? '00:00:00:00:00:00';
    const n = Number(key.slice(3));
    // A DHCP lease in the 10.<n>.0.0/16 network of the NIC's bridge, fixed per vmid.
    const v4 = `10.${10 + n}.${Math.floor(ct.vmid / 250) % 250}.${(ct.vmid % 250) + 2}/16`;
    const v6 = `fe80::${mac.toLowerCase().split(':').slice(-2).join('')}/64`;
    out.push(entry(name, mac, v4, v6));
  }
  return out;
}
