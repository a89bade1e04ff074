// The cluster's state: nodes, storages, templates, pools and containers, plus the 10-second metrics
// tick (workloads → container and node figures → counters, rrd history, OOM kills).
import { createHash } from 'node:crypto';
import { fail } from '../errors.js';
import { noise } from '../rng.js';
import type { ContainerSpec, ScenarioSpec, StorageSpec, VmSpec } from '../scenarios/types.js';
import { Rrd } from './rrd.js';
import { sampleWorkload, type WorkloadSpec } from './workload.js';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
/** pvestatd's cadence: figures and rrd history move every 10 simulated seconds. */
export const TICK_MS = 10_000;

export type CtConfig = Record<string, string | number>;
export type GuestType = 'lxc' | 'qemu';

export interface SimNode {
  name: string;
  nodeid: number;
  ip: string;
  zone?: string;
  cpus: number;
  sockets: number;
  cpuModel: string;
  memTotal: number;
  swapTotal: number;
  rootTotal: number;
  rootUsed: number;
  online: boolean;
  bootAt: number;
  /** Live figures, refreshed by the tick. */
  cpu: number;
  mem: number;
  swapUsed: number;
  netin: number;
  netout: number;
  load: [number, number, number];
  rrd: Rrd;
}

export interface SimSnapshot {
  name: string;
  description: string;
  snaptime: number;
  parent?: string;
  config: CtConfig;
}

/** A guest: an LXC container, or a QEMU VM (unmanaged: read endpoints only, counted in node load). */
export interface SimContainer {
  type: GuestType;
  vmid: number;
  node: string;
  status: 'running' | 'stopped';
  config: CtConfig;
  pool?: string;
  snapshots: SimSnapshot[];
  /** The snapshot the current state descends from. */
  parent?: string;
  workload: WorkloadSpec;
  ha: { state: string } | null;
  startedAt: number | null;
  /** Live figures: cpu as a fraction of cores, bytes for the rest; counters run since start. */
  cpu: number;
  mem: number;
  swap: number;
  diskUsed: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
  rrd: Rrd;
}

export interface SimVolume {
  volid: string;
  storage: string;
  content: 'vztmpl';
  format: string;
  size: number;
  ctime: number;
}

export interface SimPool {
  poolid: string;
  comment?: string;
  storage: string[];
}

export interface OomEvent {
  ct: SimContainer;
  node: SimNode;
  usedBytes: number;
  totalBytes: number;
}

/** Fields of the container rrd, in order; maxcpu/maxmem/maxdisk come from the config when read. */
export const CT_RRD_FIELDS = ['cpu', 'mem', 'disk', 'netin', 'netout', 'diskread', 'diskwrite'] as const;
export const NODE_RRD_FIELDS = [
  'cpu',
  'iowait',
  'loadavg',
  'memused',
  'swapused',
  'rootused',
  'netin',
  'netout',
] as const;

const HOST_MEM_BASE = 1.5 * GiB;

export class Cluster {
  readonly name: string;
  readonly nodes = new Map<string, SimNode>();
  readonly storages: StorageSpec[];
  readonly templates: SimVolume[];
  readonly pools = new Map<string, SimPool>();
  readonly containers = new Map<number, SimContainer>();
  onOom: (ev: OomEvent) => void = () => {};
  private sorted: SimContainer[] | null = null;
  private lastTick: number;

  constructor(
    spec: ScenarioSpec,
    readonly seed: number,
    now: number,
  ) {
    this.name = spec.clusterName;
    this.lastTick = now;
    spec.nodes.forEach((n, i) => {
      this.nodes.set(n.name, {
        name: n.name,
        nodeid: i + 1,
        ip: `10.0.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}`,
        zone: n.zone,
        cpus: n.cpus,
        sockets: n.cpus >= 32 ? 2 : 1,
        cpuModel: n.cpuModel ?? 'Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz',
        memTotal: n.memGiB * GiB,
        swapTotal: (n.swapGiB ?? 8) * GiB,
        rootTotal: n.rootfsGiB * GiB,
        rootUsed: Math.round(n.rootfsGiB * GiB * (0.08 + 0.1 * noise(seed, i, 7))),
        online: n.online ?? true,
        // Nodes booted between 3 and 40 days before the start.
        bootAt: now - Math.round((3 + 37 * noise(seed, i, 11)) * 86400) * 1000,
        cpu: 0,
        mem: 0,
        swapUsed: 0,
        netin: 0,
        netout: 0,
        load: [0, 0, 0],
        rrd: new Rrd(NODE_RRD_FIELDS.length),
      });
    });
    this.storages = spec.storages;
    this.templates = spec.templates.map((t) => ({
      volid: `${t.storage}:vztmpl/${t.file}`,
      storage: t.storage,
      content: 'vztmpl',
      format: t.file.endsWith('.tar.zst') ? 'tzst' : t.file.endsWith('.tar.xz') ? 'txz' : 'tgz',
      size: t.sizeMiB * MiB,
      ctime: spec.epoch - 90 * 86400,
    }));
    for (const p of spec.pools)
      this.pools.set(p.poolid, { poolid: p.poolid, comment: p.comment, storage: [] });
    for (const c of spec.containers) this.addFromSpec(c, now);
    for (const vm of spec.vms ?? []) this.addVmFromSpec(vm, now);
    this.refreshAll();
  }

  // ---- lookups ---------------------------------------------------------------------------------

  /** Containers ordered by vmid (cached; rebuilt after a create or destroy). */
  list(): SimContainer[] {
    if (!this.sorted) this.sorted = [...this.containers.values()].sort((a, b) => a.vmid - b.vmid);
    return this.sorted;
  }

  /** The node named in a path; PVE fails the proxy lookup for a name that is not a cluster member. */
  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n)
      fail(
        `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
      );
    return n;
  }

  /** The container as the node in the path sees it: its config file must live on that node. */
  ct(node: string, vmid: number): SimContainer {
    return this.guest('lxc', node, vmid);
  }

  /** The VM as the node in the path sees it (qemu-server/ID.conf on that node). */
  vm(node: string, vmid: number): SimContainer {
    return this.guest('qemu', node, vmid);
  }

  private guest(type: GuestType, node: string, vmid: number): SimContainer {
    const g = this.containers.get(vmid);
    const dir = type === 'lxc' ? 'lxc' : 'qemu-server';
    if (!g || g.node !== node || g.type !== type)
      fail(`Configuration file 'nodes/${node}/${dir}/${vmid}.conf' does not exist`);
    return g;
  }

  storage(id: string, node: string): StorageSpec | undefined {
    return this.storages.find((s) => s.id === id && (!s.nodes || s.nodes.includes(node)));
  }

  storagesOn(node: string): StorageSpec[] {
    return this.storages.filter((s) => !s.nodes || s.nodes.includes(node));
  }

  nextFreeVmid(): number {
    let id = 100;
    while (this.containers.has(id)) id++;
    return id;
  }

  // ---- containers ------------------------------------------------------------------------------

  private addFromSpec(c: ContainerSpec, now: number): void {
    const storage = c.storage ?? 'local-lvm';
    const config: CtConfig = {
      arch: 'amd64',
      cores: c.cores,
      hostname: c.hostname,
      memory: c.memoryMiB,
      net0: `name=eth0,bridge=vmbr0,hwaddr=${this.mac(c.vmid)},ip=dhcp,type=veth`,
      ostype: c.ostype ?? 'debian',
      rootfs: `${storage}:${c.template ? 'base' : 'vm'}-${c.vmid}-disk-0,size=${c.diskGiB}G`,
      swap: c.swapMiB,
      unprivileged: 1,
    };
    if (c.tags?.length) config.tags = c.tags.join(';');
    if (c.template) config.template = 1;
    if (c.protection) config.protection = 1;
    if (c.lock) config.lock = c.lock;
    const ct = this.add({
      vmid: c.vmid,
      node: c.node,
      config,
      pool: c.pool,
      workload: c.workload ?? { profile: 'idle' },
      diskUsed: Math.round((c.diskUsedGiB ?? Math.min(c.diskGiB * 0.3, 2.5)) * GiB),
      ha: c.ha ? { state: c.status === 'running' ? 'started' : 'stopped' } : null,
    });
    if (c.status === 'running' && !c.template) {
      // Started some hours before the scenario begins, so uptimes differ.
      this.startContainer(ct, now - Math.round(3600 + 86400 * noise(this.seed, c.vmid, 13)) * 1000, now);
    }
  }

  private addVmFromSpec(v: VmSpec, now: number): void {
    const storage = v.storage ?? 'local-lvm';
    const uuid = [8, 4, 4, 4, 12]
      .map((len, i) =>
        Array.from({ length: len }, (_, j) =>
          Math.floor(noise(this.seed, v.vmid, 19, i * 16 + j) * 16).toString(16),
        ).join(''),
      )
      .join('-');
    const config: CtConfig = {
      boot: 'order=scsi0;net0',
      cores: v.cores,
      cpu: 'x86-64-v2-AES',
      // A property string since PVE 8 (`current=` is its default key), so the API sends a string.
      memory: String(v.memoryMiB),
      meta: `creation-qemu=10.0.2,ctime=${Math.floor(now / 1000) - 86400 * 200}`,
      name: v.name,
      net0: `virtio=${this.mac(v.vmid)},bridge=vmbr0,firewall=1`,
      numa: 0,
      ostype: 'l26',
      scsi0: `${storage}:vm-${v.vmid}-disk-0,iothread=1,size=${v.diskGiB}G`,
      scsihw: 'virtio-scsi-single',
      smbios1: `uuid=${uuid}`,
      sockets: 1,
      vmgenid: uuid.split('').reverse().join(''),
    };
    if (v.tags?.length) config.tags = v.tags.join(';');
    const vm = this.add({
      type: 'qemu',
      vmid: v.vmid,
      node: v.node,
      config,
      pool: v.pool,
      workload: v.workload ?? { profile: 'idle' },
      diskUsed: 0, // PVE reports no disk use for VMs (it cannot see into the guest).
      ha: v.ha ? { state: v.status === 'running' ? 'started' : 'stopped' } : null,
    });
    if (v.status === 'running')
      this.startContainer(vm, now - Math.round(7200 + 86400 * 5 * noise(this.seed, v.vmid, 13)) * 1000, now);
  }

  add(init: {
    type?: GuestType;
    vmid: number;
    node: string;
    config: CtConfig;
    pool?: string;
    workload: WorkloadSpec;
    diskUsed: number;
    ha: { state: string } | null;
  }): SimContainer {
    const ct: SimContainer = {
      ...init,
      type: init.type ?? 'lxc',
      status: 'stopped',
      snapshots: [],
      startedAt: null,
      cpu: 0,
      mem: 0,
      swap: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      rrd: new Rrd(CT_RRD_FIELDS.length),
    };
    this.containers.set(ct.vmid, ct);
    this.sorted = null;
    return ct;
  }

  remove(vmid: number): void {
    this.containers.delete(vmid);
    this.sorted = null;
  }

  /** A guest NIC's MAC: PVE's BC:24:11 prefix, the rest drawn from the seed (NIC 0 keeps its old draw). */
  mac(vmid: number, nic = 0): string {
    const b = [0, 1, 2].map((i) => Math.floor(noise(this.seed, vmid, 17 + nic * 100, i) * 256));
    return ['BC', '24', '11', ...b.map((x) => x.toString(16).padStart(2, '0').toUpperCase())].join(':');
  }

  /** Marks a container running and samples its figures right away, so node figures move at once. */
  startContainer(ct: SimContainer, startedAt: number, now: number): void {
    ct.status = 'running';
    ct.startedAt = startedAt;
    ct.netin = ct.netout = ct.diskread = ct.diskwrite = 0;
    this.sample(ct, now);
    this.refreshNode(this.nodes.get(ct.node)!);
  }

  stopContainer(ct: SimContainer): void {
    markStopped(ct);
    const node = this.nodes.get(ct.node);
    if (node) this.refreshNode(node);
  }

  maxmem(ct: SimContainer): number {
    return Number(ct.config.memory ?? 512) * MiB;
  }

  maxswap(ct: SimContainer): number {
    return Number(ct.config.swap ?? 512) * MiB;
  }

  maxcpu(ct: SimContainer): number {
    if (ct.type === 'qemu') return Number(ct.config.cores ?? 1) * Number(ct.config.sockets ?? 1);
    return Number(ct.config.cores ?? this.nodes.get(ct.node)?.cpus ?? 1);
  }

  /** The volume string of the root disk: a CT's rootfs, a VM's boot disk. */
  rootVolume(ct: SimContainer): string {
    return String((ct.type === 'qemu' ? ct.config.scsi0 : ct.config.rootfs) ?? '');
  }

  maxdisk(ct: SimContainer): number {
    return diskSize(this.rootVolume(ct));
  }

  uptime(ct: SimContainer, now: number): number {
    return ct.startedAt === null ? 0 : Math.max(0, Math.floor((now - ct.startedAt) / 1000));
  }

  /** The config file as PVE writes it (sorted keys, snapshots as sections); its SHA1 is the digest. */
  configText(ct: SimContainer): string {
    const section = (conf: CtConfig, extra: Record<string, string | number>): string => {
      const all: Record<string, string | number> = { ...conf, ...extra };
      const desc = all.description;
      delete all.description;
      const lines =
        desc === undefined
          ? []
          : String(desc)
              .split('\n')
              .map((l) => `#${l}`);
      for (const k of Object.keys(all).sort()) lines.push(`${k}: ${all[k]}`);
      return lines.join('\n') + '\n';
    };
    let text = section(ct.config, ct.parent ? { parent: ct.parent } : {});
    for (const s of ct.snapshots) {
      const extra: Record<string, string | number> = { snaptime: s.snaptime };
      if (s.parent) extra.parent = s.parent;
      if (s.description) extra.description = s.description;
      text += `\n[${s.name}]\n` + section(s.config, extra);
    }
    return text;
  }

  digest(ct: SimContainer): string {
    return createHash('sha1').update(this.configText(ct)).digest('hex');
  }

  // ---- the metrics tick ------------------------------------------------------------------------

  /** Runs every TICK_MS of simulated time: one pass over the containers, then one per node. */
  tick(now: number): void {
    const dt = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const t = Math.floor(now / 1000);
    const v = this.scratch;
    const rate = (cur: number, prev: number): number => (dt > 0 && cur >= prev ? (cur - prev) / dt : 0);
    const perNode = new Map<string, { running: SimContainer[]; netin: number; netout: number }>();
    for (const n of this.nodes.values())
      if (n.online) perNode.set(n.name, { running: [], netin: 0, netout: 0 });
    for (const ct of this.list()) {
      const agg = perNode.get(ct.node);
      if (!agg) continue; // offline node: pvestatd cannot report, nothing moves
      if (ct.status === 'running') {
        this.sample(ct, now);
        const cores = this.maxcpu(ct);
        const netRate = ((ct.workload.netKiBps ?? 256) * 1024 * (0.05 + ct.cpu * cores)) / Math.max(1, cores);
        ct.netin += Math.round(netRate * dt);
        ct.netout += Math.round(netRate * 0.6 * dt);
        ct.diskread += Math.round(4096 * (1 + 50 * ct.cpu) * dt);
        ct.diskwrite += Math.round(8192 * (1 + 30 * ct.cpu) * dt);
        agg.running.push(ct);
      }
      let prev = this.prevCounters.get(ct.vmid);
      if (!prev) {
        prev = new Float64Array([ct.netin, ct.netout, ct.diskread, ct.diskwrite]);
        this.prevCounters.set(ct.vmid, prev);
      }
      v[0] = ct.cpu;
      v[1] = ct.mem;
      v[2] = ct.diskUsed;
      v[3] = rate(ct.netin, prev[0]!);
      v[4] = rate(ct.netout, prev[1]!);
      v[5] = rate(ct.diskread, prev[2]!);
      v[6] = rate(ct.diskwrite, prev[3]!);
      ct.rrd.add(t, v);
      prev[0] = ct.netin;
      prev[1] = ct.netout;
      prev[2] = ct.diskread;
      prev[3] = ct.diskwrite;
      agg.netin += v[3];
      agg.netout += v[4];
    }
    const nv = this.nodeScratch;
    for (const node of this.nodes.values()) {
      const agg = perNode.get(node.name);
      if (!agg) continue;
      this.aggregate(node, agg.running);
      node.netin += Math.round(agg.netin * dt);
      node.netout += Math.round(agg.netout * dt);
      nv[0] = node.cpu;
      nv[1] = node.cpu * 0.02;
      nv[2] = node.load[0];
      nv[3] = node.mem;
      nv[4] = node.swapUsed;
      nv[5] = node.rootUsed;
      nv[6] = agg.netin;
      nv[7] = agg.netout;
      node.rrd.add(t, nv);
    }
  }

  /** Counters at the previous tick, for rates; kept apart so state dumps stay plain. */
  private readonly prevCounters = new Map<number, Float64Array>();
  private readonly scratch = new Float64Array(CT_RRD_FIELDS.length);
  private readonly nodeScratch = new Float64Array(NODE_RRD_FIELDS.length);

  /** Re-samples one container's workload (cpu, memory, swap) at `now`. */
  sample(ct: SimContainer, now: number): void {
    const s = sampleWorkload(ct.workload, this.seed, ct.vmid, Math.floor(now / 1000), this.uptime(ct, now));
    const cpulimit = Number(ct.config.cpulimit ?? 0);
    const cores = this.maxcpu(ct);
    ct.cpu = cpulimit > 0 ? Math.min(s.cpu, cpulimit / cores) : s.cpu;
    // The cgroup caps memory at the limit; the rest goes to swap (and beyond that, the CT's own OOM).
    const limit = this.maxmem(ct);
    ct.mem = Math.min(s.memBytes, limit);
    ct.swap = Math.min(Math.max(0, s.memBytes - limit), this.maxswap(ct));
  }

  /** Re-computes one node's figures (after a start, stop, resize or usage change). */
  refreshNode(node: SimNode): void {
    this.aggregate(
      node,
      this.list().filter((ct) => ct.node === node.name && ct.status === 'running'),
    );
  }

  /** Node figures are the sum of its running containers plus host overhead; OOM-kills when over. */
  private aggregate(node: SimNode, running: SimContainer[]): void {
    let cpuCores = node.cpus * 0.02;
    let mem = HOST_MEM_BASE + node.memTotal * 0.02;
    let swap = 0;
    for (const ct of running) {
      cpuCores += ct.cpu * this.maxcpu(ct);
      mem += ct.mem;
      swap += ct.swap;
    }
    node.cpu = Math.min(1, cpuCores / node.cpus);
    node.swapUsed = Math.min(node.swapTotal, Math.round(swap));
    const load = Math.min(cpuCores, node.cpus * 1.5);
    node.load = [load, node.load[1] * 0.9 + load * 0.1, node.load[2] * 0.97 + load * 0.03];
    // The kernel's OOM killer picks the biggest memory user (ties: the higher vmid) until memory fits.
    while (mem > node.memTotal && running.length > 0) {
      const victim = running.reduce((a, b) =>
        b.mem > a.mem || (b.mem === a.mem && b.vmid > a.vmid) ? b : a,
      );
      const usedBytes = Math.round(mem);
      mem -= victim.mem;
      cpuCores -= victim.cpu * this.maxcpu(victim);
      running.splice(running.indexOf(victim), 1);
      markStopped(victim);
      this.onOom({ ct: victim, node, usedBytes, totalBytes: node.memTotal });
    }
    node.mem = Math.round(mem);
    node.cpu = Math.min(1, cpuCores / node.cpus);
  }

  refreshAll(): void {
    for (const node of this.nodes.values()) this.refreshNode(node);
  }
}

function markStopped(ct: SimContainer): void {
  ct.status = 'stopped';
  ct.startedAt = null;
  ct.cpu = ct.mem = ct.swap = 0;
  ct.netin = ct.netout = ct.diskread = ct.diskwrite = 0;
}

/** Bytes of a volume string's `size=` option (PVE units K, M, G, T; plain number = bytes). */
export function diskSize(volume: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(volume);
  if (!m) return 0;
  const mult = { '': 1, K: 1024, M: MiB, G: GiB, T: 1024 * GiB }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * mult);
}
