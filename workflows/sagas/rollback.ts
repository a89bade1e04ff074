// rollbackContainerWorkflow: return a container to a snapshot and to the run state it had.
// preflight (the snapshot exists) → rollback (PVE stops a running container for it) → start (if it
// ran) → verify. The rollback itself cannot be undone, since the state it replaced is gone; what a
// failure restores is the run state.
import { rollbackInputSchema, type OperationResult, type RollbackInput } from '../../src/domain';
import { compensations, reads, requests } from './activities';
import { preflightContainer } from './common';
import { completingRefusals, parseInput, Saga, unrecoverable, verificationFailure } from './saga';

export function rollbackContainerWorkflow(raw: RollbackInput): Promise<OperationResult> {
  return completingRefusals(() => rollbackSaga(raw));
}

async function rollbackSaga(raw: RollbackInput): Promise<OperationResult> {
  const input = parseInput(rollbackInputSchema, raw);
  const { vmid, name } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('rollback', vmid, null);

  saga.at('preflight', name);
  const { facts: before } = await preflightContainer(saga, vmid, input.scope);
  const node = before.node;
  const wasRunning = before.status === 'running';
  if (!(await reads.listSnapshots({ node, vmid })).includes(name)) {
    saga.refuse(`CT ${vmid} has no snapshot named '${name}'`);
  }
  const runState = wasRunning ? 'running' : 'stopped';

  await saga.run(
    async () => {
      saga.at('rollback', name);
      await saga.task(requests.requestRollback({ node, vmid, name }));
      if (wasRunning) {
        saga.at('start', `on ${node}`);
        await saga.task(requests.requestStart({ node, vmid }));
      }
      saga.at('verify');
      const now = await saga.read(reads, [node]);
      if (!now) throw verificationFailure(`CT ${vmid} is gone after the rollback`);
      if (now.status !== runState)
        throw verificationFailure(`CT ${vmid} is ${now.status}, expected ${runState}`);
      if (now.lock) throw verificationFailure(`CT ${vmid} is still locked (${now.lock})`);
    },
    async () => {
      // The saga let a rollback task still running end first: it holds the lock a start fails on.
      const now = await saga.read(compensations, [node]);
      if (!now) throw unrecoverable(`CT ${vmid} is gone`);
      if (wasRunning && now.status !== 'running') {
        await saga.task(compensations.requestStart({ node: now.node, vmid }));
      }
      const after = await saga.read(compensations, [now.node]);
      if (wasRunning && after?.status !== 'running') {
        throw verificationFailure(`CT ${vmid} is ${after?.status ?? 'gone'} after its restart`);
      }
      return `CT ${vmid} is ${runState} on ${now.node}, as before`;
    },
  );
  return saga.succeed(node, `CT ${vmid} rolled back to '${name}', ${runState}`);
}
