// The admin API under /_sim/ (not part of PVE, no auth): state, reset, clock, workloads, faults,
// nodes offline/online, stuck locks, request counters. JSON in, {"data": ...} out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateWorkload, type WorkloadSpec } from './model/workload.js';
import type { Sim } from './sim.js';
import { dumpState } from './state.js';
import { sendJson } from './http/wire.js';

const LOCKS = [
  'backup',
  'create',
  'destroyed',
  'disk',
  'fstrim',
  'migrate',
  'mounted',
  'rollback',
  'snapshot',
  'snapshot-delete',
];

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createAdmin(
  sim: Sim,
): (req: IncomingMessage, res: ServerResponse, path: string, body: string) => void {
  return (req, res, path, body) => {
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      const input = parseBody(body);
      sim.world.sync();
      const data = route(sim, method, path.replace(/\/+$/, ''), input);
      sim.world.touch();
      sendJson(res, 200, 'OK', { data: data ?? null });
    } catch (err) {
      const status = err instanceof AdminError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, status, status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Error', {
        data: null,
        message,
      });
    }
  };
}

function parseBody(body: string): Record<string, unknown> {
  if (!body.trim()) return {};
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AdminError(400, 'body: expected a JSON object');
}

function route(sim: Sim, method: string, path: string, input: Record<string, unknown>): unknown {
  const w = sim.world;
  const key = `${method} ${path}`;
  let m: RegExpExecArray | null;
  if (key === 'GET /_sim/state') return dumpState(w);
  if (key === 'POST /_sim/reset') {
    sim.reset();
    return null;
  }
  if (key === 'GET /_sim/clock') return clock(sim);
  if (key === 'GET /_sim/process') {
    const m = process.memoryUsage();
    return {
      pid: process.pid,
      rss: m.rss,
      heapUsed: m.heapUsed,
      containers: w.cluster.list().filter((g) => g.type === 'lxc').length,
      vms: w.cluster.list().filter((g) => g.type === 'qemu').length,
      nodes: w.cluster.nodes.size,
    };
  }
  if (key === 'POST /_sim/clock/advance') {
    const seconds = input.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
      throw new AdminError(400, 'seconds: expected a number >= 0');
    w.advance(seconds);
    return clock(sim);
  }
  if (key === 'GET /_sim/counters')
    return Object.fromEntries([...w.counters].sort(([a], [b]) => (a < b ? -1 : 1)));
  if (key === 'DELETE /_sim/counters') {
    w.counters.clear();
    return null;
  }
  if (key === 'GET /_sim/faults') return w.faults.list();
  if (key === 'POST /_sim/faults') {
    try {
      return { id: w.faults.add(input) };
    } catch (err) {
      throw new AdminError(400, (err as Error).message);
    }
  }
  if (key === 'DELETE /_sim/faults') {
    w.faults.clear();
    return null;
  }
  if (method === 'DELETE' && (m = /^\/_sim\/faults\/([\w-]+)$/.exec(path))) {
    if (!w.faults.remove(m[1]!)) throw new AdminError(404, `no fault '${m[1]}'`);
    return null;
  }
  if (method === 'POST' && (m = /^\/_sim\/nodes\/([\w.-]+)\/(offline|online)$/.exec(path))) {
    const node = w.cluster.nodes.get(m[1]!);
    if (!node) throw new AdminError(404, `no node '${m[1]}'`);
    node.online = m[2] === 'online';
    if (node.online) w.cluster.refreshNode(node);
    return { node: node.name, online: node.online };
  }
  if ((m = /^\/_sim\/containers\/(\d+)\/(workload|usage|lock)$/.exec(path))) {
    const ct = w.cluster.containers.get(Number(m[1]));
    if (!ct) throw new AdminError(404, `no container ${m[1]}`);
    const what = m[2];
    if (what === 'workload' && method === 'PUT') {
      const err = validateWorkload(input);
      if (err) throw new AdminError(400, err);
      ct.workload = { ...input } as unknown as WorkloadSpec;
      resample(sim, ct.vmid);
      return ct.workload;
    }
    if (what === 'usage' && method === 'PUT') {
      // Pins the container at these levels (a steady workload), effective at once: tests use it to
      // push a node past its memory and see the OOM kill.
      const { memMiB, cpu } = input;
      if (memMiB !== undefined && (typeof memMiB !== 'number' || memMiB < 0))
        throw new AdminError(400, 'memMiB: expected a number >= 0');
      if (cpu !== undefined && (typeof cpu !== 'number' || cpu < 0 || cpu > 1))
        throw new AdminError(400, 'cpu: expected a fraction 0..1');
      ct.workload = {
        ...ct.workload,
        profile: 'steady',
        memMiB: (memMiB as number | undefined) ?? ct.workload.memMiB ?? ct.mem / 1048576,
        cpu: (cpu as number | undefined) ?? ct.workload.cpu ?? ct.cpu,
      };
      resample(sim, ct.vmid);
      return { vmid: ct.vmid, status: ct.status, mem: ct.mem, cpu: ct.cpu };
    }
    if (what === 'lock' && method === 'POST') {
      const lock = input.lock;
      if (typeof lock !== 'string' || !LOCKS.includes(lock))
        throw new AdminError(400, `lock: expected one of ${LOCKS.join(', ')}`);
      ct.config.lock = lock;
      return { vmid: ct.vmid, lock };
    }
    if (what === 'lock' && method === 'DELETE') {
      delete ct.config.lock;
      return { vmid: ct.vmid };
    }
  }
  throw new AdminError(404, `no admin route '${method} ${path}'`);
}

function resample(sim: Sim, vmid: number): void {
  const w = sim.world;
  const ct = w.cluster.containers.get(vmid);
  if (!ct || ct.status !== 'running') return;
  w.cluster.sample(ct, w.time);
  const node = w.cluster.nodes.get(ct.node);
  if (node) w.cluster.refreshNode(node);
}

function clock(sim: Sim): unknown {
  const w = sim.world;
  return {
    now: w.time,
    iso: new Date(w.time).toISOString(),
    mode: w.clock.config.mode,
    speed: w.clock.speed,
  };
}
