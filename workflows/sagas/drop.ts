// dropContainerWorkflow: take a container out of service, stopped (mode stop) or destroyed with its
// disks (mode destroy). preflight → snapshot (optional, stop mode) → shutdown → destroy → verify.
// A failure before the container is gone puts it back in its run state and removes the snapshot,
// unless the goal holds anyway (someone else stopped it meanwhile). A container that took the vmid
// after ours was destroyed is another one: never touched, never reported on.
import { workflowInfo } from '@temporalio/workflow';
import { dropInputSchema, type DropInput, type OperationResult } from '../../src/domain';
import type { ContainerFacts } from '../../activities/proxmox';
import { compensations, reads, requests } from './activities';
import { preflightContainer } from './common';
import { completingRefusals, parseInput, Saga, unrecoverable, verificationFailure } from './saga';

export function dropContainerWorkflow(raw: DropInput): Promise<OperationResult> {
  return completingRefusals(() => dropSaga(raw));
}

async function dropSaga(raw: DropInput): Promise<OperationResult> {
  const input = parseInput(dropInputSchema, raw);
  const { vmid, mode } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('drop', vmid, null);

  saga.at('preflight', mode);
  const { facts: before } = await preflightContainer(saga, vmid, input.scope);
  const node = before.node;
  const wasRunning = before.status === 'running';
  // A destroy purges the container's snapshots with it: a snapshot first would protect nothing.
  // The run id keeps the name unique, so the compensation only ever removes this run's snapshot.
  const snapname =
    input.snapshotFirst && mode === 'stop' ? `pre-drop-${workflowInfo().runId.slice(0, 8)}` : null;

  /** Why the container as read now is not dropped yet; null when the drop's goal holds. */
  async function missing(now: ContainerFacts | null, api: typeof reads): Promise<string | null> {
    if (mode === 'destroy') return now ? `CT ${vmid} still exists on ${now.node}` : null;
    if (!now) return `CT ${vmid} is gone, though only a stop was asked for`;
    if (now.status !== 'stopped') return `CT ${vmid} is ${now.status}, expected stopped`;
    if (snapname && !(await api.listSnapshots({ node: now.node, vmid })).includes(snapname)) {
      return `snapshot '${snapname}' of CT ${vmid} is not listed`;
    }
    return null;
  }

  await saga.run(
    async () => {
      if (snapname) {
        saga.at('snapshot', snapname);
        const description = `taken by pve-autopilot before a drop (${workflowInfo().workflowId})`;
        await saga.task(requests.requestSnapshot({ node, vmid, name: snapname, description }));
      }
      if (wasRunning) {
        saga.at('shutdown', `on ${node}`);
        await saga.stop(node, vmid, input.shutdownTimeoutSeconds);
      }
      if (mode === 'destroy') {
        saga.at('destroy', `on ${node}`);
        await saga.task(requests.requestDestroy({ vmid, near: [node], identity: before.identity }));
      }
      saga.at('verify');
      const why = await missing(await saga.read(reads, [node]), reads);
      if (why) throw verificationFailure(why);
    },
    async () => {
      const now = await saga.read(compensations, [node]);
      // Destroyed after all (the verify failed for another reason): nothing can bring it back.
      if (!now) throw unrecoverable(`CT ${vmid} is destroyed and cannot be restored`);
      if (snapname)
        await saga.task(compensations.requestSnapshotDelete({ node: now.node, vmid, name: snapname }));
      if (wasRunning && now.status !== 'running') {
        await saga.task(compensations.requestStart({ node: now.node, vmid }));
      }
      const after = await saga.read(compensations, [now.node]);
      if (wasRunning && after?.status !== 'running') {
        throw verificationFailure(`CT ${vmid} is ${after?.status ?? 'gone'} after its restart`);
      }
      return `CT ${vmid} kept on ${now.node}${wasRunning ? ', running again' : ''}`;
    },
    {
      goalHolds: async () => (await missing(await saga.read(compensations, [node]), compensations)) === null,
    },
  );
  if (mode === 'destroy') return saga.succeed('', `CT ${vmid} destroyed on ${node}`);
  return saga.succeed(
    node,
    `CT ${vmid} stopped on ${node}${snapname ? `, snapshot '${snapname}' kept` : ''}`,
  );
}
