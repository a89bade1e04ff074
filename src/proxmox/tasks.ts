// Waiting for PVE tasks and finding one already in flight. An activity polls a UPID here, heartbeats
// from onProgress, stops on its cancellation signal, and after a lost POST answer adopts the running
// task instead of starting a second one.

import type { PveClient, Upid } from './client';
import { classifyPveText, isPveError, PveError } from './errors';
import type { TaskStatus, TaskSummary } from './schemas';

export type TaskClient = Pick<PveClient, 'taskStatus' | 'taskLog' | 'tasks'>;

export interface FinishedTask extends TaskStatus {
  status: 'stopped';
  exitstatus: string;
  /** Number of warnings when the task ended with `WARNINGS: n`, else 0. */
  warnings: number;
}

export interface WaitForTaskOptions {
  /**
   * First poll interval; default 500 ms. Each later one doubles, up to maxPollMs: a short task is
   * seen at once, a long migration costs a poll every few seconds (a 30 s task, 10 polls).
   */
  pollMs?: number;
  /** Longest poll interval; default 5000 ms (never below pollMs). */
  maxPollMs?: number;
  /** Called after every poll; an activity heartbeats here. `lastLogLine` needs no extra call to read. */
  onProgress?: (status: TaskStatus, lastLogLine: string | undefined) => void | Promise<void>;
  /** Aborting stops the wait (not the task) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Transient poll failures (node-unreachable, timeout, server) tolerated in a row before giving up;
   * default 3. A node that reboots mid-migration should not fail the wait on its first refused poll.
   */
  maxPollFailures?: number;
}

const OK = /^OK$/;
const WARNINGS = /^WARNINGS: (\d+)$/;

/**
 * Turns a failed task's exit status into a PveError. Texts with a meaning of their own keep it
 * (`CT is locked (migrate)` → locked, retryable); everything else is task-failed.
 */
export function classifyTaskExit(
  exitstatus: string,
  task: { upid?: string; node?: string; type?: string },
): PveError {
  const text = exitstatus.trim();
  const byText = classifyPveText(text);
  const what = task.type ? `task ${task.type}` : 'task';
  const where = task.upid ? ` ${task.upid}` : '';
  const base = { upid: task.upid, exitstatus: text, message: `${what}${where} failed: ${text}` };
  if (byText && byText.kind !== 'task-failed') return new PveError({ ...base, ...byText });
  return new PveError({ ...base, kind: 'task-failed', taskFailure: byText?.taskFailure ?? 'other' });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Races a request against the signal so cancellation does not wait for a slow answer. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Polls a task until it stops. Resolves with the final status when the exit status is `OK` or
 * `WARNINGS: n`; otherwise throws the PveError from classifyTaskExit.
 */
export async function waitForTask(
  client: TaskClient,
  node: string,
  upid: Upid,
  options: WaitForTaskOptions = {},
): Promise<FinishedTask> {
  const { pollMs = 500, onProgress, signal, maxPollFailures = 3 } = options;
  const maxPollMs = Math.max(pollMs, options.maxPollMs ?? 5000);
  let interval = pollMs;
  const pause = async () => {
    await sleep(interval, signal);
    interval = Math.min(interval * 2, maxPollMs);
  };
  let logLinesSeen = 0;
  let lastLogLine: string | undefined;
  let failuresInRow = 0;
  for (;;) {
    signal?.throwIfAborted();
    let status: TaskStatus;
    try {
      status = await abortable(client.taskStatus(node, upid), signal);
      if (onProgress) {
        // Read only lines not seen yet; PVE numbers them from 1 and `start` skips that many.
        const lines = await abortable(
          client.taskLog(node, upid, { start: logLinesSeen, limit: 500 }),
          signal,
        );
        if (lines.length > 0) {
          logLinesSeen += lines.length;
          lastLogLine = lines[lines.length - 1]?.t;
        }
      }
      failuresInRow = 0;
    } catch (err) {
      if (signal?.aborted || !isPveError(err) || !err.retryable || ++failuresInRow > maxPollFailures)
        throw err;
      await pause();
      continue;
    }
    if (onProgress) await onProgress(status, lastLogLine);
    if (status.status === 'stopped') {
      const exitstatus = (status.exitstatus ?? '').trim();
      const warnings = WARNINGS.exec(exitstatus);
      if (OK.test(exitstatus) || warnings)
        return { ...status, status: 'stopped', exitstatus, warnings: warnings ? Number(warnings[1]) : 0 };
      throw classifyTaskExit(exitstatus || 'task stopped without exit status', status);
    }
    await pause();
  }
}

/**
 * The vmids a vzdestroy freed within the last `windowSeconds`, from a list of recent tasks
 * (GET /cluster/tasks). Measured on the cluster's own clock, the newest time in the list, so a worker
 * whose clock differs from the nodes' (or pve-sim's accelerated clock) quarantines the same ids.
 */
export function recentlyFreedVmids(tasks: readonly TaskSummary[], windowSeconds: number): number[] {
  if (windowSeconds <= 0 || tasks.length === 0) return [];
  const now = Math.max(...tasks.map((t) => Math.max(t.starttime, t.endtime ?? 0)));
  const freed = tasks.filter(
    (t) => t.type === 'vzdestroy' && /^\d+$/.test(t.id) && (t.endtime ?? now) >= now - windowSeconds,
  );
  return [...new Set(freed.map((t) => Number(t.id)))].sort((a, b) => a - b);
}

/**
 * The newest running task of `type` for container `vmid` on `node`, if any. Used after a POST whose
 * answer was lost: the retry waits for this task instead of starting a second one.
 */
export async function findActiveTask(
  client: Pick<PveClient, 'tasks'>,
  node: string,
  vmid: number,
  type: string,
): Promise<TaskSummary | undefined> {
  const active = await client.tasks(node, { source: 'active', vmid, typefilter: type });
  // The filters are applied again here: older PVE versions ignore typefilter for active tasks.
  // PVE lists a running task with status "RUNNING"; a finished one can linger in the active list
  // with its exit status until PVE archives it.
  const matching = active.filter(
    (t) =>
      t.type === type &&
      t.id === String(vmid) &&
      (t.status === undefined || t.status.toLowerCase() === 'running'),
  );
  matching.sort((a, b) => b.starttime - a.starttime);
  return matching[0];
}
