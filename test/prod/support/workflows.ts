// What the production-shape tests read of a run: its pending activities (which worker runs them),
// the worker that finally completed an activity, and pve-sim's task list.
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestSim } from '../../support/sim';

const { PendingActivityState } = proto.temporal.api.enums.v1;

export interface PendingActivity {
  activityId: string;
  type: string;
  started: boolean;
  attempt: number;
  /** `pid@host` of the worker that holds it. */
  identity: string;
}

export async function pendingActivities(handle: WorkflowHandle): Promise<PendingActivity[]> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).map((a) => ({
    activityId: a.activityId ?? '',
    type: a.activityType?.name ?? '',
    started: a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    attempt: a.attempt ?? 0,
    identity: a.lastWorkerIdentity ?? '',
  }));
}

export async function waitForPendingActivity(
  handle: WorkflowHandle,
  matches: (a: PendingActivity) => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<PendingActivity> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const a of await pendingActivities(handle)) if (await matches(a)) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no matching pending activity within ${timeoutMs} ms`);
}

/**
 * The ActivityTaskStarted event of an activity: Temporal writes it once the activity has ended,
 * for the last attempt only, so it names the worker that completed it and how many attempts it took.
 */
export async function completedBy(
  handle: WorkflowHandle,
  activityId: string,
): Promise<{ identity: string; attempt: number }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  if (!scheduled) throw new Error(`activity ${activityId} was never scheduled`);
  const started = events.find(
    (e) =>
      e.activityTaskStartedEventAttributes &&
      String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled.eventId),
  );
  const attrs = started?.activityTaskStartedEventAttributes;
  if (!attrs) throw new Error(`activity ${activityId} has no started event`);
  return { identity: attrs.identity ?? '', attempt: attrs.attempt ?? 0 };
}

export async function vzmigrates(sim: TestSim, vmid: number): Promise<number> {
  let n = 0;
  for (const node of ['srv-px1', 'srv-px2']) {
    const tasks = await sim.pve.tasks(node, { vmid, typefilter: 'vzmigrate', source: 'all' });
    n += tasks.filter((t) => t.type === 'vzmigrate').length;
  }
  return n;
}
