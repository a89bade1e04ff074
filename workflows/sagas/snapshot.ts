// snapshotContainerWorkflow: take a named snapshot of a container and verify PVE lists it.
// preflight (the name is free) → snapshot → verify. A failure removes a half-made snapshot, so a
// retry with the same name finds it free again.
import { snapshotInputSchema, type OperationResult, type SnapshotInput } from '../../src/domain';
import { compensations, reads, requests } from './activities';
import { preflightContainer } from './common';
import { completingRefusals, parseInput, Saga, verificationFailure } from './saga';

export function snapshotContainerWorkflow(raw: SnapshotInput): Promise<OperationResult> {
  return completingRefusals(() => snapshotSaga(raw));
}

async function snapshotSaga(raw: SnapshotInput): Promise<OperationResult> {
  const input = parseInput(snapshotInputSchema, raw);
  const { vmid, name } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('snapshot', vmid, null);

  saga.at('preflight', name);
  const { facts: before } = await preflightContainer(saga, vmid, input.scope);
  const node = before.node;
  // An existing snapshot of that name holds an older state: passing it off as taken now would
  // mislead whoever rolls back to it later.
  if ((await reads.listSnapshots({ node, vmid })).includes(name)) {
    saga.refuse(`CT ${vmid} already has a snapshot named '${name}'`);
  }

  await saga.run(
    async () => {
      saga.at('snapshot', name);
      await saga.task(
        requests.requestSnapshot({
          node,
          vmid,
          name,
          ...(input.description !== undefined ? { description: input.description } : {}),
        }),
      );
      saga.at('verify');
      if (!(await reads.listSnapshots({ node, vmid })).includes(name)) {
        throw verificationFailure(`snapshot '${name}' of CT ${vmid} is not listed`);
      }
      const now = await saga.read(reads, [node]);
      if (now?.lock) throw verificationFailure(`CT ${vmid} is still locked (${now.lock}) after the snapshot`);
    },
    async () => {
      // A snapshot task that was cancelled kept running in PVE (the saga let it end): its result is
      // what may need removing.
      if ((await compensations.listSnapshots({ node, vmid })).includes(name)) {
        await saga.task(compensations.requestSnapshotDelete({ node, vmid, name }));
      }
      if ((await compensations.listSnapshots({ node, vmid })).includes(name)) {
        throw verificationFailure(`snapshot '${name}' of CT ${vmid} is still listed after its removal`);
      }
      return `no snapshot '${name}' left on CT ${vmid}`;
    },
  );
  return saga.succeed(node, `CT ${vmid} has snapshot '${name}'`);
}
