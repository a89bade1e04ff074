// migrateContainerWorkflow: move a container to another node and leave it in the run state it had.
// preflight → shutdown (if running) → offline migrate → start on the target (if it was running) →
// verify. Any failure puts it back on its source in its original run state; when even that fails
// the run ends needs-attention. Mode `restart` uses PVE's own single restart-migration task instead.
import { migrateInputSchema, snapshotOf, type MigrateInput, type OperationResult } from '../../src/domain';
import { migrationRefusal } from '../../src/policy';
import type { ContainerFacts } from '../../activities/proxmox';
import { compensations, reads, requests } from './activities';
import { managedScope } from './common';
import { parseInput, Saga, verificationFailure } from './saga';

export async function migrateContainerWorkflow(raw: MigrateInput): Promise<OperationResult> {
  const input = parseInput(migrateInputSchema, raw);
  const { vmid, target } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('migrate', vmid, null);

  saga.at('preflight', `to ${target}`);
  const scope = await managedScope(input.scope);
  const snapshot = snapshotOf(await reads.observeCluster());
  const refusal = migrationRefusal(snapshot, { ...input, scope });
  if (refusal) saga.refuse(refusal);
  const before = await reads.readContainer({ vmid });
  if (!before) saga.refuse(`CT ${vmid} does not exist`);
  if (before.lock) saga.refuse(`CT ${vmid} is locked (${before.lock})`);
  const source = before.node;
  const wasRunning = before.status === 'running';
  saga.node(source);

  await saga.run(
    async () => {
      if (input.mode === 'restart') {
        saga.at('restart-migrate', `${source} → ${target}`);
        await saga.task(requests.requestMigration({ vmid, from: source, to: target, restart: true }));
      } else {
        if (wasRunning) {
          saga.at('shutdown', `on ${source}`);
          await saga.stop(source, vmid, input.shutdownTimeoutSeconds);
        }
        saga.at('migrate', `${source} → ${target}`);
        await saga.task(requests.requestMigration({ vmid, from: source, to: target }));
        if (wasRunning) {
          saga.at('start', `on ${target}`);
          await saga.task(requests.requestStart({ node: target, vmid }));
        }
      }
      saga.at('verify');
      checkState(await reads.readContainer({ vmid }), before, target, wasRunning);
    },
    async () => {
      const now = await compensations.readContainer({ vmid });
      if (!now) throw verificationFailure(`CT ${vmid} is gone`);
      if (now.node !== source) {
        if (now.status === 'running') await saga.stop(now.node, vmid, input.shutdownTimeoutSeconds, true);
        await saga.task(compensations.requestMigration({ vmid, from: now.node, to: source }));
      }
      if (wasRunning) await saga.task(compensations.requestStart({ node: source, vmid }));
      else if (now.node === source && now.status === 'running') await saga.stop(source, vmid, 60, true);
      checkState(await compensations.readContainer({ vmid }), before, source, wasRunning);
      return `CT ${vmid} is back on ${source}, ${wasRunning ? 'running' : 'stopped'}`;
    },
  );
  saga.node(target);
  return saga.succeed(target, `CT ${vmid} moved ${source} → ${target}${wasRunning ? ', running' : ''}`);
}

/** The container is on `node`, in its original run state, with its original config. */
function checkState(
  now: ContainerFacts | null,
  before: ContainerFacts,
  node: string,
  running: boolean,
): void {
  if (!now) throw verificationFailure(`CT ${before.vmid} is gone`);
  const want = running ? 'running' : 'stopped';
  if (now.node !== node || now.status !== want) {
    throw verificationFailure(
      `CT ${before.vmid} is ${now.status} on ${now.node}, expected ${want} on ${node}`,
    );
  }
  if (now.cores !== before.cores || now.memoryMiB !== before.memoryMiB || now.swapMiB !== before.swapMiB) {
    throw verificationFailure(`CT ${before.vmid} config changed during the move`);
  }
}
