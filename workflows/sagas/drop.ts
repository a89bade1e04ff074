// dropContainerWorkflow: take a container out of service, stopped (mode stop) or destroyed with its
// disks (mode destroy). preflight → snapshot (optional, stop mode) → shutdown → destroy → verify.
// A failure before the container is gone puts it back in its run state and removes the snapshot.
import { workflowInfo } from '@temporalio/workflow';
import { dropInputSchema, type DropInput, type OperationResult } from '../../src/domain';
import { compensations, reads, requests } from './activities';
import { InFlight, preflightContainer } from './common';
import { parseInput, Saga, verificationFailure } from './saga';

export async function dropContainerWorkflow(raw: DropInput): Promise<OperationResult> {
  const input = parseInput(dropInputSchema, raw);
  const { vmid, mode } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('drop', vmid, null);

  saga.at('preflight', mode);
  const before = await preflightContainer(saga, vmid, input.scope);
  const node = before.node;
  const wasRunning = before.status === 'running';
  // A destroy purges the container's snapshots with it: a snapshot first would protect nothing.
  // The run id keeps the name unique, so the compensation only ever removes this run's snapshot.
  const snapname =
    input.snapshotFirst && mode === 'stop' ? `pre-drop-${workflowInfo().runId.slice(0, 8)}` : null;
  const inFlight = new InFlight();

  await saga.run(
    async () => {
      if (snapname) {
        saga.at('snapshot', snapname);
        const description = `taken by pve-autopilot before a drop (${workflowInfo().workflowId})`;
        await inFlight.run(requests.requestSnapshot({ node, vmid, name: snapname, description }));
      }
      if (wasRunning) {
        saga.at('shutdown', `on ${node}`);
        await saga.stop(node, vmid, input.shutdownTimeoutSeconds);
      }
      if (mode === 'destroy') {
        saga.at('destroy', `on ${node}`);
        await inFlight.run(requests.requestDestroy({ vmid }));
      }
      saga.at('verify');
      const now = await reads.readContainer({ vmid });
      if (mode === 'destroy') {
        if (now) throw verificationFailure(`CT ${vmid} still exists on ${now.node}`);
        return;
      }
      if (!now) throw verificationFailure(`CT ${vmid} is gone, though only a stop was asked for`);
      if (now.status !== 'stopped')
        throw verificationFailure(`CT ${vmid} is ${now.status}, expected stopped`);
      if (snapname && !(await reads.listSnapshots({ node: now.node, vmid })).includes(snapname)) {
        throw verificationFailure(`snapshot '${snapname}' of CT ${vmid} is not listed`);
      }
    },
    async () => {
      await inFlight.settle();
      const now = await compensations.readContainer({ vmid });
      // Destroyed after all (the verify failed for another reason): nothing can bring it back.
      if (!now) throw verificationFailure(`CT ${vmid} is destroyed and cannot be restored`);
      if (snapname)
        await saga.task(compensations.requestSnapshotDelete({ node: now.node, vmid, name: snapname }));
      if (wasRunning && now.status !== 'running') {
        await saga.task(compensations.requestStart({ node: now.node, vmid }));
      }
      const after = await compensations.readContainer({ vmid });
      if (wasRunning && after?.status !== 'running') {
        throw verificationFailure(`CT ${vmid} is ${after?.status ?? 'gone'} after its restart`);
      }
      return `CT ${vmid} kept on ${now.node}${wasRunning ? ', running again' : ''}`;
    },
  );
  if (mode === 'destroy') return saga.succeed('', `CT ${vmid} destroyed on ${node}`);
  return saga.succeed(
    node,
    `CT ${vmid} stopped on ${node}${snapname ? `, snapshot '${snapname}' kept` : ''}`,
  );
}
