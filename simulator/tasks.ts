// PVE tasks: UPIDs, task lists and logs, and the scheduler that runs a task script through simulated
// time. A script is a generator that yields how many simulated seconds to wait before its next step.
import type { EventQueue } from './events.js';

/** A task: what its UPID encodes, plus how it is going. */
export interface SimTask extends ParsedUpid {
  upid: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  log: Array<{ t: string }>;
  warnings: number;
}

export type TaskScript = (task: TaskRun) => Generator<number, void, void>;

/** What a running script may do: write its log, read the time, ask for an injected failure. */
export interface TaskRun {
  readonly task: SimTask;
  now(): number;
  log(line: string): void;
  warn(line: string): void;
  /** An injected failure for this task type (from the fault registry), or null. */
  injectedFailure(): string | null;
}

/** A failure that ends the task: `exitstatus` is the message; the log's last line TASK ERROR: message. */
export class TaskError extends Error {}

/** Keeps task history bounded for long fleet runs; vzmigrate history is kept whole (tests count it). */
const MAX_TASKS_PER_NODE = 20_000;

export class TaskManager {
  private readonly byUpid = new Map<string, SimTask>();
  private readonly byNode = new Map<string, SimTask[]>();
  private seq = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly now: () => number,
    private readonly pstartOf: (node: string) => number,
    private readonly injected: (type: string) => string | null,
  ) {}

  get(upid: string): SimTask | undefined {
    return this.byUpid.get(upid);
  }

  /** Tasks of one node, oldest first. */
  onNode(node: string): readonly SimTask[] {
    return this.byNode.get(node) ?? [];
  }

  all(): SimTask[] {
    return [...this.byUpid.values()];
  }

  /** Creates the task (the UPID the API returns at once) and schedules its first step. */
  start(node: string, type: string, id: string, user: string, script: TaskScript): SimTask {
    const task = this.create(node, type, id, user);
    const run: TaskRun = {
      task,
      now: this.now,
      log: (t) => void task.log.push({ t }),
      warn: (t) => {
        task.warnings++;
        task.log.push({ t: `WARN: ${t}` });
      },
      injectedFailure: () => this.injected(type),
    };
    const gen = script(run);
    const step = (): void => {
      try {
        const r = gen.next();
        if (r.done) return this.finish(task, task.warnings > 0 ? `WARNINGS: ${task.warnings}` : 'OK');
        this.queue.schedule(this.now() + Math.max(0, Math.round(r.value * 1000)), step);
      } catch (err) {
        const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'error';
        this.finish(task, msg);
      }
    };
    this.queue.schedule(this.now(), step);
    return task;
  }

  /** Takes back a task from a saved state (persistence across restarts). */
  adopt(task: SimTask): void {
    this.seq++;
    this.byUpid.set(task.upid, task);
    const list = this.byNode.get(task.node) ?? [];
    list.push(task);
    this.byNode.set(task.node, list);
  }

  /** A task that already happened (for example the record of an OOM kill). */
  record(node: string, type: string, id: string, user: string, lines: string[], exitstatus: string): SimTask {
    const task = this.create(node, type, id, user);
    for (const t of lines) task.log.push({ t });
    this.finish(task, exitstatus);
    return task;
  }

  private create(node: string, type: string, id: string, user: string): SimTask {
    this.seq++;
    const pid = 0x10000 + this.seq * 7;
    const pstart = this.pstartOf(node);
    const starttime = Math.floor(this.now() / 1000);
    const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');
    const upid = `UPID:${node}:${hex(pid)}:${hex(pstart)}:${hex(starttime)}:${type}:${id}:${user}:`;
    const task: SimTask = {
      upid,
      node,
      pid,
      pstart,
      starttime,
      type,
      id,
      user,
      status: 'running',
      log: [],
      warnings: 0,
    };
    this.byUpid.set(upid, task);
    const list = this.byNode.get(node) ?? [];
    list.push(task);
    if (list.length > MAX_TASKS_PER_NODE) {
      const drop = list.findIndex((t) => t.status === 'stopped' && t.type !== 'vzmigrate');
      if (drop >= 0) this.byUpid.delete(list.splice(drop, 1)[0]!.upid);
    }
    this.byNode.set(node, list);
    return task;
  }

  private finish(task: SimTask, exitstatus: string): void {
    task.status = 'stopped';
    task.exitstatus = exitstatus;
    task.endtime = Math.floor(this.now() / 1000);
    task.log.push({
      t:
        exitstatus === 'OK'
          ? 'TASK OK'
          : exitstatus.startsWith('WARNINGS')
            ? `TASK ${exitstatus}`
            : `TASK ERROR: ${exitstatus}`,
    });
  }
}

export interface ParsedUpid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

export function parseUpid(upid: string): ParsedUpid | null {
  const m =
    /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/.exec(
      upid,
    );
  if (!m) return null;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}
