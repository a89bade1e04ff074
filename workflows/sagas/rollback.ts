// rollbackContainerWorkflow: return a container to a snapshot and to the run state it had.
// preflight (the snapshot exists) → rollback (PVE stops a running container for it) → start (if it
// ran) → verify. The rollback itself cannot be undone, since the state it replaced is gone; what a
// failure restores is the run state.
import { rollbackInputSchema, type OperationResult, type RollbackInput } from '../../src/domain';
import { compensations, reads, requests } from './activities';
import { InFlight, preflightContainer } from './common';
import { parseInput, Saga, verificationFailure } from './saga';

export async function rollbackContainerWorkflow(raw: RollbackInput): Promise<OperationResult> {
  const input = parseInput(rollbackInputSchema, raw);
  const { vmid, name } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('rollback', vmid, null);

  saga.at('preflight', name);
  const before = await preflightContainer(saga, vmid, input.scope);
  const node = before.node;
  const wasRunning = before.status === 'running';
  if (!(await reads.listSnapshots({ node, vmid })).includes(name)) {
    saga.refuse(`CT ${vmid} has no snapshot named '${name}'`);
  }
  const inFlight = new InFlight();
  const runState = wasRunning ? 'running' : 'stopped';

  await saga.run(
    async () => {
      saga.at('rollback', name);
      await inFlight.run(requests.requestRollback({ node, vmid, name }));
      if (wasRunning) {
        saga.at('start', `on ${node}`);
        await inFlight.run(requests.requestStart({ node, vmid }));
      }
      saga.at('verify');
      const now = await reads.readContainer({ vmid });
      if (!now) throw verificationFailure(`CT ${vmid} is gone after the rollback`);
      if (now.status !== runState)
        throw verificationFailure(`CT ${vmid} is ${now.status}, expected ${runState}`);
      if (now.lock) throw verificationFailure(`CT ${vmid} is still locked (${now.lock})`);
    },
    async () => {
      // A rollback task still running holds the lock a start would fail on.
      await inFlight.settle();
      const now = await compensations.readContainer({ vmid });
      if (!now) throw verificationFailure(`CT ${vmid} is gone`);
      if (wasRunning && now.status !== 'running') {
        await saga.task(compensations.requestStart({ node: now.node, vmid }));
      }
      const after = await compensations.readContainer({ vmid });
      if (wasRunning && after?.status !== 'running') {
        throw verificationFailure(`CT ${vmid} is ${after?.status ?? 'gone'} after its restart`);
      }
      return `CT ${vmid} is ${runState} on ${now.node}, as before`;
    },
  );
  return saga.succeed(node, `CT ${vmid} rolled back to '${name}', ${runState}`);
}
