// Turns model objects into the JSON PVE answers with (shared by several endpoints). PVE's JSON
// carries booleans as 0/1 and omits optional keys that have no value.
import type { Cluster, SimContainer, SimNode } from '../model/cluster.js';
import type { StorageSpec } from '../scenarios/types.js';

export type Json = Record<string, unknown>;

const round = (n: number, digits = 6): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** A CT's hostname, a VM's name, or PVE's fallback. */
export function guestName(ct: SimContainer): string {
  if (ct.type === 'qemu') return String(ct.config.name ?? `VM ${ct.vmid}`);
  return String(ct.config.hostname ?? `CT${ct.vmid}`);
}

/** A guest's entry in /cluster/resources and pool member lists (`lxc/ID` or `qemu/ID`). */
export function ctResource(c: Cluster, ct: SimContainer, now: number): Json {
  const node = c.nodes.get(ct.node);
  const known = node?.online ?? false;
  const e: Json = {
    id: `${ct.type}/${ct.vmid}`,
    type: ct.type,
    vmid: ct.vmid,
    name: guestName(ct),
    node: ct.node,
    status: known ? ct.status : 'unknown',
    template: ct.config.template === 1 ? 1 : 0,
    cpu: known ? round(ct.cpu) : 0,
    maxcpu: c.maxcpu(ct),
    mem: known ? ct.mem : 0,
    maxmem: c.maxmem(ct),
    disk: ct.diskUsed,
    maxdisk: c.maxdisk(ct),
    netin: ct.netin,
    netout: ct.netout,
    diskread: ct.diskread,
    diskwrite: ct.diskwrite,
    uptime: known ? c.uptime(ct, now) : 0,
  };
  if (ct.config.tags !== undefined) e.tags = String(ct.config.tags);
  if (ct.pool) e.pool = ct.pool;
  if (ct.config.lock !== undefined) e.lock = String(ct.config.lock);
  if (ct.ha) e.hastate = ct.ha.state;
  return e;
}

export function nodeUptime(n: SimNode, now: number): number {
  return Math.floor((now - n.bootAt) / 1000);
}

export function nodeResource(n: SimNode, now: number): Json {
  if (!n.online)
    return {
      id: `node/${n.name}`,
      type: 'node',
      node: n.name,
      status: 'offline',
      maxcpu: n.cpus,
      maxmem: n.memTotal,
      maxdisk: n.rootTotal,
    };
  return {
    id: `node/${n.name}`,
    type: 'node',
    node: n.name,
    status: 'online',
    cpu: round(n.cpu),
    maxcpu: n.cpus,
    mem: n.mem,
    maxmem: n.memTotal,
    disk: n.rootUsed,
    maxdisk: n.rootTotal,
    uptime: nodeUptime(n, now),
    level: '',
    'cgroup-mode': 2,
  };
}

/** Used bytes per "storage/node" key, from one pass over the containers. */
export function storageUsage(c: Cluster): Map<string, number> {
  const used = new Map<string, number>();
  for (const ct of c.list()) {
    const storage = c.rootVolume(ct).split(':')[0] ?? '';
    const spec = c.storages.find((s) => s.id === storage);
    const key = spec?.shared ? `${storage}/*` : `${storage}/${ct.node}`;
    used.set(key, (used.get(key) ?? 0) + ct.diskUsed);
  }
  for (const t of c.templates) used.set(`${t.storage}/tmpl`, (used.get(`${t.storage}/tmpl`) ?? 0) + t.size);
  return used;
}

export function storageFigures(
  s: StorageSpec,
  node: string,
  used: Map<string, number>,
): { total: number; used: number } {
  const total = s.totalGiB * 1024 ** 3;
  const u =
    (used.get(s.shared ? `${s.id}/*` : `${s.id}/${node}`) ?? 0) +
    (used.get(`${s.id}/tmpl`) ?? 0) +
    2 * 1024 ** 3;
  return { total, used: Math.min(total, u) };
}

export function storageResource(s: StorageSpec, node: SimNode, used: Map<string, number>): Json {
  const f = storageFigures(s, node.name, used);
  const e: Json = {
    id: `storage/${node.name}/${s.id}`,
    type: 'storage',
    storage: s.id,
    node: node.name,
    status: node.online ? 'available' : 'unknown',
    content: s.content.join(','),
    plugintype: s.type,
    shared: s.shared ? 1 : 0,
  };
  if (node.online) {
    e.disk = f.used;
    e.maxdisk = f.total;
  }
  return e;
}

/** GET .../lxc (list) and .../status/current share these figures. */
export function ctStatus(c: Cluster, ct: SimContainer, now: number): Json {
  const e: Json = {
    vmid: ct.vmid,
    name: guestName(ct),
    type: 'lxc',
    status: ct.status,
    cpu: round(ct.cpu),
    cpus: c.maxcpu(ct),
    mem: ct.mem,
    maxmem: c.maxmem(ct),
    swap: ct.swap,
    maxswap: c.maxswap(ct),
    disk: ct.diskUsed,
    maxdisk: c.maxdisk(ct),
    netin: ct.netin,
    netout: ct.netout,
    diskread: ct.diskread,
    diskwrite: ct.diskwrite,
    uptime: c.uptime(ct, now),
    pressurecpusome: 0,
    pressureiofull: 0,
    pressureiosome: 0,
    pressurememoryfull: 0,
    pressurememorysome: 0,
  };
  if (ct.config.tags !== undefined) e.tags = String(ct.config.tags);
  if (ct.config.lock !== undefined) e.lock = String(ct.config.lock);
  if (ct.config.template === 1) e.template = 1;
  return e;
}

/** GET .../qemu (list) and .../qemu/{vmid}/status/current share these figures. */
export function vmStatus(c: Cluster, ct: SimContainer, now: number): Json {
  const running = ct.status === 'running';
  const e: Json = {
    vmid: ct.vmid,
    name: guestName(ct),
    status: ct.status,
    cpu: round(ct.cpu),
    cpus: c.maxcpu(ct),
    mem: ct.mem,
    maxmem: c.maxmem(ct),
    // What the QEMU process holds on the host: the guest's memory plus the emulator's overhead.
    memhost: running ? Math.round(ct.mem * 1.02 + 40 * 1024 ** 2) : 0,
    disk: 0,
    maxdisk: c.maxdisk(ct),
    netin: ct.netin,
    netout: ct.netout,
    diskread: ct.diskread,
    diskwrite: ct.diskwrite,
    uptime: c.uptime(ct, now),
    qmpstatus: ct.status,
    serial: 0,
    pressurecpufull: 0,
    pressurecpusome: 0,
    pressureiofull: 0,
    pressureiosome: 0,
    pressurememoryfull: 0,
    pressurememorysome: 0,
  };
  if (running) {
    e.pid = 1000 + (ct.vmid % 60000);
    e['running-machine'] = 'pc-i440fx-10.0+pve0';
    e['running-qemu'] = '10.0.2';
  }
  if (ct.config.tags !== undefined) e.tags = String(ct.config.tags);
  if (ct.config.lock !== undefined) e.lock = String(ct.config.lock);
  if (ct.config.template === 1) e.template = 1;
  return e;
}
