// migrateContainerWorkflow: move a container to another node and leave it in the run state it had.
// preflight → shutdown (if running) → offline migrate → start on the target (if it was running) →
// verify. Any failure (a cancel too) lets the task in flight end, then puts the container back on
// its source in its original run state; when even that fails the run ends needs-attention. Mode
// `restart` uses PVE's own single restart-migration task instead.
import { migrateInputSchema, type MigrateInput, type OperationResult } from '../../src/domain';
import { migrationRefusal } from '../../src/policy';
import type { ContainerFacts } from '../../activities/proxmox';
import { compensations, reads, requests } from './activities';
import { preflightContainer } from './common';
import { completingRefusals, parseInput, Saga, unrecoverable, verificationFailure } from './saga';

export function migrateContainerWorkflow(raw: MigrateInput): Promise<OperationResult> {
  return completingRefusals(() => migrateSaga(raw));
}

async function migrateSaga(raw: MigrateInput): Promise<OperationResult> {
  const input = parseInput(migrateInputSchema, raw);
  const { vmid, target } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('migrate', vmid, null);

  saga.at('preflight', `to ${target}`);
  const { facts: before, slice, scope } = await preflightContainer(saga, vmid, input.scope, [target]);
  // The slice holds the container and both nodes: all that admission needs of the cluster.
  const refusal = migrationRefusal(
    { takenAt: 0, nodes: slice.nodes, containers: slice.container ? [slice.container] : [] },
    { ...input, scope },
  );
  if (refusal) saga.refuse(refusal);
  const source = before.node;
  const wasRunning = before.status === 'running';
  const where = [target, source];

  await saga.run(
    async () => {
      if (input.mode === 'restart') {
        saga.at('restart-migrate', `${source} → ${target}`);
        await migrate(requests, source, target, true);
      } else {
        if (wasRunning) {
          saga.at('shutdown', `on ${source}`);
          await saga.stop(source, vmid, input.shutdownTimeoutSeconds);
        }
        saga.at('migrate', `${source} → ${target}`);
        await migrate(requests, source, target);
        if (wasRunning) {
          saga.at('start', `on ${target}`);
          await saga.task(requests.requestStart({ node: target, vmid }));
        }
      }
      saga.at('verify');
      checkState(await saga.read(reads, where), before, target, wasRunning);
    },
    async () => {
      const now = await saga.read(compensations, where);
      if (!now) throw unrecoverable(`CT ${vmid} is gone`);
      if (now.node !== source) {
        if (now.status === 'running') await saga.stop(now.node, vmid, input.shutdownTimeoutSeconds, true);
        await migrate(compensations, now.node, source);
      }
      if (wasRunning) await saga.task(compensations.requestStart({ node: source, vmid }));
      else if (now.node === source && now.status === 'running') await saga.stop(source, vmid, 60, true);
      checkState(await saga.read(compensations, [source]), before, source, wasRunning);
      return `CT ${vmid} is back on ${source}, ${wasRunning ? 'running' : 'stopped'}`;
    },
    {
      goalHolds: async () => holds(await saga.read(compensations, where), before, target, wasRunning),
    },
  );
  saga.node(target);
  return saga.succeed(target, `CT ${vmid} moved ${source} → ${target}${wasRunning ? ', running' : ''}`);

  /**
   * One migration from `from` to `to`. The mark taken first lets every retry of the request adopt
   * the migration its first attempt started, even one that already failed: never a second one.
   */
  async function migrate(api: typeof requests, from: string, to: string, restart = false): Promise<void> {
    const after = await api.markTasks({ node: from, vmid, type: 'vzmigrate' });
    await saga.task(api.requestMigration({ vmid, from, to, after, ...(restart ? { restart } : {}) }));
  }
}

/** The container is on `node`, in its original run state, with its original config. */
function checkState(
  now: ContainerFacts | null,
  before: ContainerFacts,
  node: string,
  running: boolean,
): void {
  if (!now) throw unrecoverable(`CT ${before.vmid} is gone`);
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

function holds(now: ContainerFacts | null, before: ContainerFacts, node: string, running: boolean): boolean {
  try {
    checkState(now, before, node, running);
    return true;
  } catch {
    return false;
  }
}
