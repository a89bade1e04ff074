// Fault injection: HTTP faults (5xx, hangs, latency) matched by method and path pattern, and task
// failures by task type. Rates draw from the seeded PRNG; `times` makes a fault fire exactly N times.
import type { Rng } from './rng.js';

export interface HttpFault {
  id: string;
  kind: 'http';
  method?: string;
  path: string;
  status?: number;
  rate: number;
  times?: number;
  hang: boolean;
  latencyMs: number;
  message?: string;
}

export interface TaskFault {
  id: string;
  kind: 'task';
  taskType: string;
  rate: number;
  times?: number;
  message?: string;
}

export type Fault = HttpFault | TaskFault;

export interface HttpFaultOutcome {
  latencyMs: number;
  hang: boolean;
  fail?: { status: number; message: string };
}

export class FaultRegistry {
  private faults: Fault[] = [];
  private nextId = 1;
  private patterns = new Map<string, RegExp>();

  constructor(private readonly rng: Rng) {}

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Validates and adds a fault from admin/scenario JSON; returns its id or throws a message. */
  add(input: Record<string, unknown>): string {
    const id = `f${this.nextId++}`;
    const rate = optNumber(input, 'rate') ?? 1;
    if (rate < 0 || rate > 1) throw new Error('rate: expected a fraction 0..1');
    const times = optNumber(input, 'times');
    if (times !== undefined && (!Number.isInteger(times) || times < 1))
      throw new Error('times: expected an integer >= 1');
    const message = optString(input, 'message');
    if (input.taskType !== undefined) {
      const taskType = optString(input, 'taskType');
      if (!taskType) throw new Error('taskType: expected a task type such as vzmigrate');
      this.faults.push({ id, kind: 'task', taskType, rate, times, message });
      return id;
    }
    const path = optString(input, 'path');
    if (!path) throw new Error('path: expected a path or pattern, e.g. /nodes/{node}/lxc/{vmid}/migrate');
    const status = optNumber(input, 'status');
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599))
      throw new Error('status: expected an HTTP error status 400..599');
    const latencyMs = optNumber(input, 'latencyMs') ?? 0;
    if (latencyMs < 0) throw new Error('latencyMs: expected a number >= 0');
    const hang = input.hang === true;
    if (input.hang !== undefined && typeof input.hang !== 'boolean')
      throw new Error('hang: expected a boolean');
    const method = optString(input, 'method')?.toUpperCase();
    if (status === undefined && !hang && latencyMs === 0)
      throw new Error('a fault needs status, hang or latencyMs (or taskType for a task failure)');
    this.faults.push({ id, kind: 'http', method, path, status, rate, times, hang, latencyMs, message });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /** What happens to one API call; consumes `times` and random draws only for matching faults. */
  http(method: string, template: string, path: string): HttpFaultOutcome {
    const out: HttpFaultOutcome = { latencyMs: 0, hang: false };
    for (const f of [...this.faults]) {
      if (f.kind !== 'http') continue;
      if (f.method && f.method !== method) continue;
      const re = this.pattern(f.path);
      if (!re.test(template) && !re.test(path)) continue;
      if (out.fail || out.hang) continue;
      if (!this.fires(f)) continue;
      out.latencyMs += f.latencyMs;
      if (f.hang) out.hang = true;
      else if (f.status !== undefined)
        out.fail = { status: f.status, message: f.message ?? defaultHttpMessage(f.status) };
    }
    return out;
  }

  /** The injected failure message for a task of this type, or null when it should succeed. */
  task(type: string): string | null {
    for (const f of [...this.faults]) {
      if (f.kind !== 'task' || f.taskType !== type) continue;
      if (this.fires(f)) return f.message ?? `simulated ${type} failure`;
    }
    return null;
  }

  private fires(f: Fault): boolean {
    if (f.rate < 1 && this.rng.next() >= f.rate) return false;
    if (f.times !== undefined) {
      f.times--;
      if (f.times <= 0) this.remove(f.id);
    }
    return true;
  }

  private pattern(p: string): RegExp {
    let re = this.patterns.get(p);
    if (!re) {
      const body = p
        .split('**')
        .map((part) =>
          part
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]*'),
        )
        .join('.*');
      re = new RegExp(`^(?:/api2/json)?${body}$`);
      this.patterns.set(p, re);
    }
    return re;
  }
}

function defaultHttpMessage(status: number): string {
  const texts: Record<number, string> = {
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
    595: 'Connection refused',
    596: 'Connection timed out',
  };
  return texts[status] ?? `simulated fault ${status}`;
}

function optNumber(o: Record<string, unknown>, k: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${k}: expected a number`);
  return v;
}

function optString(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`${k}: expected a string`);
  return v;
}
