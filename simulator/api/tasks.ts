// Task endpoints: list per node (with PVE's filters), status and log of one UPID.
import { paramError } from '../errors.js';
import { parseUpid, type SimTask } from '../tasks.js';
import { WithTotal, type ApiContext } from './context.js';

/** The UPID's fields; a token's task shows user and tokenid apart (PVE's convert_token_task). */
function upidFields(t: SimTask): Record<string, unknown> {
  const [user, tokenid] = t.user.split('!');
  const e: Record<string, unknown> = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    id: t.id,
    user,
  };
  if (tokenid) e.tokenid = tokenid;
  return e;
}

/** A task list entry: running tasks carry status RUNNING, finished ones their exit status and end. */
export function taskEntry(t: SimTask): Record<string, unknown> {
  const e = upidFields(t);
  if (t.status === 'stopped') {
    e.status = t.exitstatus;
    e.endtime = t.endtime;
  } else e.status = 'RUNNING';
  return e;
}

export function nodeTasks(ctx: ApiContext): unknown {
  const p = ctx.params;
  const node = String(p.node);
  ctx.world.cluster.node(node);
  const source = String(p.source ?? 'archive');
  const statusFilter =
    p.statusfilter === undefined
      ? null
      : String(p.statusfilter)
          .toLowerCase()
          .split(/[,;\s]+/);
  const matches = ctx.world.tasks.onNode(node).filter((t) => {
    if (source === 'archive' && t.status !== 'stopped') return false;
    if (source === 'active' && t.status !== 'running') return false;
    if (p.vmid !== undefined && t.id !== String(p.vmid)) return false;
    if (p.typefilter !== undefined && t.type !== String(p.typefilter)) return false;
    if (p.userfilter !== undefined && !t.user.includes(String(p.userfilter))) return false;
    if (p.errors === true && (t.status !== 'stopped' || t.exitstatus === 'OK')) return false;
    if (p.since !== undefined && t.starttime < Number(p.since)) return false;
    if (p.until !== undefined && t.starttime > Number(p.until)) return false;
    if (statusFilter) {
      const s =
        t.status === 'running'
          ? 'running'
          : t.exitstatus === 'OK'
            ? 'ok'
            : t.exitstatus?.startsWith('WARNINGS')
              ? 'warning'
              : 'error';
      if (!statusFilter.includes(s)) return false;
    }
    return true;
  });
  // PVE lists the active tasks first, then the archive newest-finished first.
  const running = matches.filter((t) => t.status === 'running').reverse();
  const done = matches
    .filter((t) => t.status === 'stopped')
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (b.t.endtime ?? 0) - (a.t.endtime ?? 0) || b.i - a.i)
    .map(({ t }) => t);
  const ordered = [...running, ...done];
  const start = Number(p.start ?? 0);
  const limit = Number(p.limit ?? 50);
  return new WithTotal(ordered.slice(start, start + limit).map(taskEntry), ordered.length);
}

function findTask(ctx: ApiContext): SimTask {
  const upid = String(ctx.params.upid);
  const parsed = parseUpid(upid);
  if (!parsed) paramError({ upid: 'unable to parse worker upid' });
  const task = ctx.world.tasks.get(upid);
  // The API runs on the node in the path; another node's UPID is not in its task directory.
  if (!task || parsed.node !== String(ctx.params.node)) paramError({ upid: 'no such task' });
  return task;
}

export function taskStatus(ctx: ApiContext): unknown {
  const t = findTask(ctx);
  const e = upidFields(t);
  e.status = t.status;
  if (t.status === 'stopped') e.exitstatus = t.exitstatus;
  return e;
}

export function taskLog(ctx: ApiContext): unknown {
  const t = findTask(ctx);
  const start = Number(ctx.params.start ?? 0);
  // PVE's dump_logfile treats limit 0 as the default 50.
  const limit = Number(ctx.params.limit ?? 0) || 50;
  const lines = t.log.slice(start, start + limit).map((l, i) => ({ n: start + i + 1, t: l.t }));
  return new WithTotal(lines, t.log.length);
}
