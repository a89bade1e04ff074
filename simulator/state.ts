// The whole simulated state as plain JSON with sorted keys (GET /_sim/state, the determinism check),
// and the save/restore of that state for --state-file persistence.
import type { SimContainer } from './model/cluster.js';
import type { SimTask } from './tasks.js';
import type { World } from './world.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Deep copy with object keys sorted, so equal states serialise to equal bytes. */
export function canonical(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && typeof x !== 'function') out[k] = canonical(x);
    }
    return out;
  }
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/** What is saved of a container: everything but its rrd history (rebuilt as time runs). */
type ContainerState = Omit<SimContainer, 'rrd'>;

export function dumpState(world: World): JsonValue {
  const c = world.cluster;
  return canonical({
    scenario: world.spec.name,
    seed: world.seed,
    clock: {
      now: world.time,
      iso: new Date(world.time).toISOString(),
      mode: world.clock.config.mode,
      speed: world.clock.speed,
    },
    rng: world.rng.snapshot,
    nodes: [...c.nodes.values()].map((n) => ({
      name: n.name,
      nodeid: n.nodeid,
      zone: n.zone,
      online: n.online,
      cpus: n.cpus,
      memTotal: n.memTotal,
      cpu: n.cpu,
      mem: n.mem,
      swapUsed: n.swapUsed,
      rootUsed: n.rootUsed,
      rootTotal: n.rootTotal,
      bootAt: n.bootAt,
      netin: n.netin,
      netout: n.netout,
    })),
    storages: c.storages,
    templates: c.templates,
    pools: [...c.pools.values()].map((p) => ({
      ...p,
      members: c
        .list()
        .filter((ct) => ct.pool === p.poolid)
        .map((ct) => ct.vmid),
    })),
    containers: c.list().map((ct) => containerState(ct)),
    tasks: world.tasks.all().map((t) => ({ ...t })),
    faults: world.faults.list(),
    counters: Object.fromEntries(world.counters),
  });
}

function containerState(ct: SimContainer): ContainerState {
  const { rrd: _rrd, ...rest } = ct;
  return rest;
}

/** Puts a saved state back into a fresh world of the same scenario (rrd history starts empty). */
export function restoreState(world: World, saved: Record<string, unknown>): void {
  const c = world.cluster;
  const nodes = saved.nodes as Array<{
    name: string;
    online: boolean;
    netin: number;
    netout: number;
    bootAt: number;
  }>;
  for (const n of nodes) {
    const node = c.nodes.get(n.name);
    if (!node) continue;
    node.online = n.online;
    node.netin = n.netin;
    node.netout = n.netout;
    node.bootAt = n.bootAt;
  }
  for (const vmid of [...c.containers.keys()]) c.remove(vmid);
  for (const s of saved.containers as ContainerState[]) {
    const ct = c.add({
      type: s.type ?? 'lxc', // state files from before VMs hold containers only
      vmid: s.vmid,
      node: s.node,
      config: s.config,
      pool: s.pool,
      workload: s.workload,
      diskUsed: s.diskUsed,
      ha: s.ha,
    });
    Object.assign(ct, { ...s, snapshots: s.snapshots ?? [] });
  }
  c.pools.clear();
  for (const p of saved.pools as Array<{ poolid: string; comment?: string; storage: string[] }>)
    c.pools.set(p.poolid, { poolid: p.poolid, comment: p.comment, storage: p.storage ?? [] });
  for (const t of saved.tasks as SimTask[]) {
    // A task that was running when the process died has no worker any more: PVE shows it so.
    const task =
      t.status === 'running'
        ? { ...t, status: 'stopped' as const, exitstatus: 'unexpected status', endtime: t.starttime }
        : t;
    world.tasks.adopt(task);
  }
  for (const f of saved.faults as Array<Record<string, unknown>>) {
    const { id: _id, kind: _kind, ...input } = f;
    world.faults.add(input);
  }
  for (const [k, v] of Object.entries(saved.counters as Record<string, number>)) world.counters.set(k, v);
  c.refreshAll();
}
