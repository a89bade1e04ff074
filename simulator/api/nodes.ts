// Node endpoints: the node index, one node's status and rrd history, its storages and their content.
import { fail } from '../errors.js';
import { NODE_RRD_FIELDS } from '../model/cluster.js';
import type { RrdFrame } from '../model/rrd.js';
import { PVE_VERSION } from './cluster.js';
import type { ApiContext } from './context.js';
import { nodeUptime, storageFigures, storageUsage, type Json } from './views.js';

export function nodeIndex(ctx: ApiContext): unknown {
  const { cluster: c, time } = ctx.world;
  return [...c.nodes.values()].map((n) =>
    n.online
      ? {
          node: n.name,
          id: `node/${n.name}`,
          type: 'node',
          status: 'online',
          cpu: Math.round(n.cpu * 1e6) / 1e6,
          maxcpu: n.cpus,
          mem: n.mem,
          maxmem: n.memTotal,
          disk: n.rootUsed,
          maxdisk: n.rootTotal,
          uptime: nodeUptime(n, time),
          level: '',
          ssl_fingerprint: ctx.fingerprint,
        }
      : {
          node: n.name,
          id: `node/${n.name}`,
          type: 'node',
          status: 'offline',
          ssl_fingerprint: ctx.fingerprint,
        },
  );
}

export function nodeStatus(ctx: ApiContext): unknown {
  const n = ctx.world.cluster.node(String(ctx.params.node));
  const load = n.load.map((l) => l.toFixed(2));
  return {
    uptime: nodeUptime(n, ctx.world.time),
    cpu: Math.round(n.cpu * 1e6) / 1e6,
    wait: Math.round(n.cpu * 0.02 * 1e6) / 1e6,
    idle: 0,
    loadavg: load,
    kversion: 'Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z) x86_64',
    pveversion: `pve-manager/${PVE_VERSION.version}/${PVE_VERSION.repoid}`,
    'boot-info': { mode: 'efi', secureboot: 0 },
    'current-kernel': {
      sysname: 'Linux',
      release: '6.17.2-1-pve',
      version: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)',
      machine: 'x86_64',
    },
    cpuinfo: {
      cpus: n.cpus,
      cores: n.cpus / n.sockets / 2 >= 1 ? n.cpus / n.sockets / 2 : 1,
      sockets: n.sockets,
      model: n.cpuModel,
      mhz: '2400.000',
      hvm: '1',
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr sse sse2 ht syscall nx lm avx avx2',
      user_hz: 100,
    },
    memory: { total: n.memTotal, used: n.mem, free: n.memTotal - n.mem, available: n.memTotal - n.mem },
    swap: { total: n.swapTotal, used: n.swapUsed, free: n.swapTotal - n.swapUsed },
    rootfs: {
      total: n.rootTotal,
      used: n.rootUsed,
      free: n.rootTotal - n.rootUsed,
      avail: n.rootTotal - n.rootUsed,
    },
    ksm: { shared: 0 },
  };
}

export function nodeRrd(ctx: ApiContext): unknown {
  const n = ctx.world.cluster.node(String(ctx.params.node));
  const frame = String(ctx.params.timeframe) as RrdFrame;
  const cf = ctx.params.cf === 'MAX' ? 'MAX' : 'AVERAGE';
  return n.rrd.fetch(frame, cf, Math.floor(ctx.world.time / 1000)).map(({ time, values }) => {
    const e: Json = { time };
    if (!values) return e;
    NODE_RRD_FIELDS.forEach((f, i) => (e[f] = Math.round(values[i]! * 1e6) / 1e6));
    e.maxcpu = n.cpus;
    e.memtotal = n.memTotal;
    e.swaptotal = n.swapTotal;
    e.roottotal = n.rootTotal;
    return e;
  });
}

export function storageIndex(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const node = c.node(String(ctx.params.node));
  const used = storageUsage(c);
  const content = ctx.params.content === undefined ? null : String(ctx.params.content).split(',');
  return c
    .storagesOn(node.name)
    .filter((s) => ctx.params.storage === undefined || s.id === ctx.params.storage)
    .filter((s) => !content || content.every((x) => s.content.includes(x)))
    .map((s) => {
      const f = storageFigures(s, node.name, used);
      return {
        storage: s.id,
        type: s.type,
        content: s.content.join(','),
        active: 1,
        enabled: 1,
        shared: s.shared ? 1 : 0,
        total: f.total,
        used: f.used,
        avail: f.total - f.used,
        used_fraction: Math.round((f.used / f.total) * 1e6) / 1e6,
      };
    });
}

export function storageContent(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const node = String(ctx.params.node);
  c.node(node);
  const id = String(ctx.params.storage);
  const storage = c.storage(id, node);
  if (!storage) fail(`storage '${id}' does not exist`);
  const want = ctx.params.content === undefined ? null : String(ctx.params.content);
  const out: Json[] = [];
  if (!want || want === 'vztmpl')
    for (const t of c.templates)
      if (t.storage === id && ctx.params.vmid === undefined)
        out.push({ volid: t.volid, content: 'vztmpl', format: t.format, size: t.size, ctime: t.ctime });
  if (!want || want === 'rootdir' || want === 'images')
    for (const ct of c.list()) {
      const vol = c.rootVolume(ct).split(',')[0] ?? '';
      const content = ct.type === 'qemu' ? 'images' : 'rootdir';
      if (want && want !== content) continue;
      if (!vol.startsWith(`${id}:`) || (!storage.shared && ct.node !== node)) continue;
      if (ctx.params.vmid !== undefined && ct.vmid !== Number(ctx.params.vmid)) continue;
      out.push({
        volid: vol,
        content,
        format: 'raw',
        size: c.maxdisk(ct),
        used: ct.diskUsed,
        vmid: ct.vmid,
      });
    }
  return out;
}

export function nodeVersion(ctx: ApiContext): unknown {
  ctx.world.cluster.node(String(ctx.params.node));
  return { ...PVE_VERSION };
}

/**
 * GET /nodes/{node}/netstat: the counters of each running guest's host-side device (tapNiM for VMs,
 * vethNiM for CTs), sorted by device name, with PVE's strings and its swap of in/out: what the host
 * transmits is what the guest receives.
 */
export function netstat(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const node = c.node(String(ctx.params.node));
  return c
    .list()
    .filter((g) => g.node === node.name && g.status === 'running')
    .map((g) => ({ dev: `${g.type === 'qemu' ? 'tap' : 'veth'}${g.vmid}i0`, g }))
    .sort((a, b) => (a.dev < b.dev ? -1 : a.dev > b.dev ? 1 : 0))
    .map(({ g }) => ({ vmid: String(g.vmid), dev: 'net0', in: String(g.netin), out: String(g.netout) }));
}

export function nodeTime(ctx: ApiContext): unknown {
  ctx.world.cluster.node(String(ctx.params.node));
  const t = Math.floor(ctx.world.time / 1000);
  return { timezone: 'UTC', time: t, localtime: t };
}

export function nodeDns(ctx: ApiContext): unknown {
  ctx.world.cluster.node(String(ctx.params.node));
  return { search: 'sim.local', dns1: '10.0.0.1', dns2: '10.0.0.2' };
}

export function storageStatus(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const node = String(ctx.params.node);
  c.node(node);
  const id = String(ctx.params.storage);
  const s = c.storage(id, node);
  if (!s) fail(`storage '${id}' does not exist`);
  const f = storageFigures(s, node, storageUsage(c));
  return {
    type: s.type,
    content: s.content.join(','),
    active: 1,
    enabled: 1,
    shared: s.shared ? 1 : 0,
    total: f.total,
    used: f.used,
    avail: f.total - f.used,
  };
}

/** A node without a subscription key, as a lab or test cluster has. */
export function subscription(ctx: ApiContext): unknown {
  const n = ctx.world.cluster.node(String(ctx.params.node));
  return {
    status: 'notfound',
    message: 'There is no subscription key',
    serverid: n.ip
      .split('.')
      .map((x) => x.padStart(2, '0'))
      .join('')
      .toUpperCase()
      .padEnd(32, '0'),
    sockets: n.sockets,
    url: 'https://www.proxmox.com/en/proxmox-virtual-environment/pricing',
  };
}
