// Waiting for tasks and adopting one in flight, against a scripted task client.

import { describe, expect, it, vi } from 'vitest';
import { PveError } from '../../../src/proxmox/errors';
import type { TaskLogLine, TaskStatus, TaskSummary } from '../../../src/proxmox/schemas';
import {
  classifyTaskExit,
  findActiveTask,
  recentlyFreedVmids,
  waitForTask,
  type TaskClient,
} from '../../../src/proxmox/tasks';

const UPID = 'UPID:pve1:00010D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam:';

function status(state: 'running' | 'stopped', exitstatus?: string): TaskStatus {
  return {
    upid: UPID,
    node: 'pve1',
    pid: 1,
    pstart: 2,
    starttime: 3,
    type: 'vzmigrate',
    id: '101',
    user: 'root@pam',
    status: state,
    ...(exitstatus === undefined ? {} : { exitstatus }),
  };
}

/** Answers taskStatus from a script (Error entries are thrown), and the log grows one line per poll. */
function scripted(script: Array<TaskStatus | Error>) {
  let polls = 0;
  const log: TaskLogLine[] = [];
  const logStarts: number[] = [];
  const client: TaskClient = {
    async taskStatus() {
      const step = script[Math.min(polls, script.length - 1)];
      polls++;
      log.push({ n: log.length + 1, t: `line ${log.length + 1}` });
      if (step instanceof Error) throw step;
      if (step === undefined) throw new Error('empty script');
      return step;
    },
    async taskLog(_node, _upid, options) {
      const start = options?.start ?? 0;
      logStarts.push(start);
      return log.slice(start);
    },
    async tasks() {
      return [];
    },
  };
  return { client, polls: () => polls, logStarts };
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('waitForTask', () => {
  it('resolves with the final status when the task ends OK', async () => {
    const { client, polls } = scripted([status('running'), status('running'), status('stopped', 'OK')]);
    const done = await waitForTask(client, 'pve1', UPID, { pollMs: 1 });
    expect(done).toMatchObject({ status: 'stopped', exitstatus: 'OK', warnings: 0, upid: UPID });
    expect(polls()).toBe(3);
  });

  it('backs off from half a second to five: a 30 s task costs at most 10 status polls', async () => {
    vi.useFakeTimers();
    try {
      const began = Date.now();
      let polls = 0;
      const client: TaskClient = {
        async taskStatus() {
          polls++;
          return Date.now() - began >= 30_000 ? status('stopped', 'OK') : status('running');
        },
        taskLog: async () => [],
        tasks: async () => [],
      };
      const waiting = waitForTask(client, 'pve1', UPID);
      await vi.advanceTimersByTimeAsync(60_000);
      expect((await waiting).exitstatus).toBe('OK');
      expect(polls).toBeLessThanOrEqual(10);
      // Still prompt at the start: a task that ends in a second is seen within about a second.
      expect(polls).toBeGreaterThanOrEqual(6);
    } finally {
      vi.useRealTimers();
    }
  });

  it('notices a short task quickly: the first polls come half a second apart', async () => {
    vi.useFakeTimers();
    try {
      const began = Date.now();
      const client: TaskClient = {
        async taskStatus() {
          return Date.now() - began >= 400 ? status('stopped', 'OK') : status('running');
        },
        taskLog: async () => [],
        tasks: async () => [],
      };
      let doneAt: number | undefined;
      const waiting = waitForTask(client, 'pve1', UPID).then(() => (doneAt = Date.now() - began));
      await vi.advanceTimersByTimeAsync(5_000);
      await waiting;
      expect(doneAt).toBeLessThanOrEqual(1_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts warnings as success', async () => {
    const { client } = scripted([status('stopped', 'WARNINGS: 2')]);
    expect((await waitForTask(client, 'pve1', UPID, { pollMs: 1 })).warnings).toBe(2);
  });

  it('throws task-failed with the exit status when a migration aborts', async () => {
    const { client } = scripted([status('running'), status('stopped', 'migration aborted')]);
    const err = await failureOf(() => waitForTask(client, 'pve1', UPID, { pollMs: 1 }));
    expect(err).toBeInstanceOf(PveError);
    expect(err).toMatchObject({
      kind: 'task-failed',
      taskFailure: 'migration-aborted',
      exitstatus: 'migration aborted',
      upid: UPID,
      retryable: false,
    });
  });

  it('maps a task that failed on a lock to a retryable locked error', async () => {
    const { client } = scripted([status('stopped', 'CT is locked (backup)')]);
    const err = await failureOf(() => waitForTask(client, 'pve1', UPID, { pollMs: 1 }));
    expect(err).toMatchObject({
      kind: 'locked',
      lock: 'backup',
      exitstatus: 'CT is locked (backup)',
      retryable: true,
    });
  });

  it('reports progress with the newest log line, reading only lines not seen yet', async () => {
    const { client, logStarts } = scripted([status('running'), status('running'), status('stopped', 'OK')]);
    const seen: Array<[string, string | undefined]> = [];
    await waitForTask(client, 'pve1', UPID, {
      pollMs: 1,
      onProgress: (s, line) => void seen.push([s.status, line]),
    });
    expect(seen).toEqual([
      ['running', 'line 1'],
      ['running', 'line 2'],
      ['stopped', 'line 3'],
    ]);
    expect(logStarts).toEqual([0, 1, 2]);
  });

  it('stops waiting when the signal aborts, with the signal reason', async () => {
    const { client } = scripted([status('running')]);
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const waiting = waitForTask(client, 'pve1', UPID, { pollMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    const started = Date.now();
    expect(await failureOf(() => waiting)).toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not poll at all when the signal is already aborted', async () => {
    const { client, polls } = scripted([status('running')]);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await failureOf(() => waitForTask(client, 'pve1', UPID, { signal: controller.signal }));
    expect(polls()).toBe(0);
  });

  it('rides out a short run of transient poll failures', async () => {
    const blip = new PveError({ kind: 'node-unreachable', message: 'ECONNREFUSED' });
    const { client } = scripted([status('running'), blip, blip, status('stopped', 'OK')]);
    expect((await waitForTask(client, 'pve1', UPID, { pollMs: 1 })).exitstatus).toBe('OK');
  });

  it('gives up after too many transient failures in a row', async () => {
    const blip = new PveError({ kind: 'timeout', message: 'slow' });
    const { client, polls } = scripted([blip]);
    expect(await failureOf(() => waitForTask(client, 'pve1', UPID, { pollMs: 1, maxPollFailures: 2 }))).toBe(
      blip,
    );
    expect(polls()).toBe(3);
  });

  it('fails at once on a non-retryable poll error', async () => {
    const missing = new PveError({ kind: 'not-found', resource: 'task', message: 'no such task' });
    const { client, polls } = scripted([missing]);
    expect(await failureOf(() => waitForTask(client, 'pve1', UPID, { pollMs: 1 }))).toBe(missing);
    expect(polls()).toBe(1);
  });
});

describe('classifyTaskExit', () => {
  it.each([
    ['container did not stop', { kind: 'task-failed', taskFailure: 'shutdown-timeout' }],
    ['lxc live migration is currently not implemented', { kind: 'task-failed', taskFailure: 'unsupported' }],
    ['CT is locked (migrate)', { kind: 'locked', lock: 'migrate' }],
    [
      "Configuration file 'nodes/pve1/lxc/101.conf' does not exist",
      { kind: 'not-found', resource: 'container' },
    ],
    ['command failed: exit code 1', { kind: 'task-failed', taskFailure: 'other' }],
  ])('maps "%s"', (text, expected) => {
    expect(classifyTaskExit(text, { upid: UPID, type: 'vzshutdown' })).toMatchObject({
      ...expected,
      exitstatus: text,
    });
  });
});

describe('findActiveTask', () => {
  function summary(over: Partial<TaskSummary>): TaskSummary {
    return {
      upid: UPID,
      node: 'pve1',
      pid: 1,
      pstart: 2,
      starttime: 100,
      type: 'vzmigrate',
      id: '101',
      user: 'root@pam',
      ...over,
    };
  }

  it('returns the newest running task of the type for the container, and asks PVE for active ones', async () => {
    const asked: unknown[] = [];
    const newest = summary({ starttime: 300, upid: UPID.replace('6124E1B9', '6124E1BA') });
    const client = {
      async tasks(_node: string, options?: unknown) {
        asked.push(options);
        return [
          summary({ starttime: 100 }),
          newest,
          summary({ starttime: 400, type: 'vzstart' }),
          summary({ starttime: 500, id: '102' }),
          summary({ starttime: 600, status: 'OK' }),
        ];
      },
    };
    expect(await findActiveTask(client, 'pve1', 101, 'vzmigrate')).toBe(newest);
    expect(asked).toEqual([{ source: 'active', vmid: 101, typefilter: 'vzmigrate' }]);
  });

  it('adopts a task PVE lists as status "RUNNING", as it does for tasks in flight', async () => {
    const running = summary({ status: 'RUNNING' });
    const client = { tasks: async () => [running, summary({ starttime: 50, status: 'OK' })] };
    expect(await findActiveTask(client, 'pve1', 101, 'vzmigrate')).toBe(running);
  });

  it('returns undefined when nothing is in flight', async () => {
    const client = { tasks: async () => [summary({ status: 'migration aborted' })] };
    expect(await findActiveTask(client, 'pve1', 101, 'vzmigrate')).toBeUndefined();
  });
});

describe('recentlyFreedVmids', () => {
  const task = (type: string, id: string, starttime: number, endtime?: number): TaskSummary => ({
    upid: UPID,
    node: 'pve1',
    pid: 1,
    pstart: 2,
    starttime,
    type,
    id,
    user: 'root@pam',
    ...(endtime === undefined ? {} : { endtime, status: 'OK' }),
  });

  it("lists the ids a destroy freed within the window, on the cluster's clock (its newest task)", () => {
    // The cluster's clock reads 10_000 (the newest task); the window is 600 s.
    const tasks = [
      task('vzdestroy', '1401', 9_990, 9_995),
      task('vzdestroy', '1402', 9_000, 9_401),
      task('vzdestroy', '1403', 9_000, 9_399),
      task('vzstop', '1404', 9_900, 9_950),
      task('vzcreate', '1405', 10_000),
      task('vzdestroy', '1401', 8_000, 8_001),
    ];
    expect(recentlyFreedVmids(tasks, 600)).toEqual([1401, 1402]);
  });

  it('lists nothing with a window of 0 or no tasks', () => {
    expect(recentlyFreedVmids([task('vzdestroy', '1401', 1, 2)], 0)).toEqual([]);
    expect(recentlyFreedVmids([], 600)).toEqual([]);
  });
});
