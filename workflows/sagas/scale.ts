// scaleContainerWorkflow: change a container's cores, memory and swap live, guarded by the config
// digest; let it settle, then verify that PVE runs it with the new limits. A failed check, or a
// container that died under its new limits (OOM), puts the old values back and starts it again. A
// stale digest is never retried as it is: the forward path ends rolled back at once (someone else
// changed the config; it does not overwrite what it never saw), the compensation re-reads.
import { sleep } from '@temporalio/workflow';
import { scaleInputSchema, type OperationResult, type ScaleInput } from '../../src/domain';
import type { ContainerFacts } from '../../activities/proxmox';
import { compensations, configUpdates, reads } from './activities';
import { preflightContainer } from './common';
import { scaleRefusal } from '../../src/policy/sizing';
import { completingRefusals, parseInput, Saga, unrecoverable, verificationFailure } from './saga';

interface Limits {
  cores: number;
  memory: number;
  swap: number;
}
type LimitKey = keyof Limits;
const limitKeys: LimitKey[] = ['cores', 'memory', 'swap'];

const MiB = 1024 * 1024;

export function scaleContainerWorkflow(raw: ScaleInput): Promise<OperationResult> {
  return completingRefusals(() => scaleSaga(raw));
}

async function scaleSaga(raw: ScaleInput): Promise<OperationResult> {
  const input = parseInput(scaleInputSchema, raw);
  const { vmid } = input;
  // Annotated so TypeScript narrows after saga.refuse(), which never returns.
  const saga: Saga = new Saga('scale', vmid, null);

  saga.at('preflight');
  const { facts: before } = await preflightContainer(saga, vmid, input.scope, [], (host, facts) =>
    scaleRefusal(host, facts.memoryMiB, input, input.admissionShare),
  );
  const node = before.node;
  const wasRunning = before.status === 'running';
  const original = limitsOf(before);
  const target: Limits = {
    cores: input.cores ?? original.cores,
    memory: input.memoryMiB ?? original.memory,
    swap: input.swapMiB ?? original.swap,
  };
  const changes = differences(original, target);
  if (Object.keys(changes).length === 0) {
    return saga.succeed(node, `CT ${vmid} already has ${describe(target)}; nothing applied`);
  }

  await saga.run(
    async () => {
      saga.at('apply', describeChange(original, changes));
      // The digest read in preflight: if someone changed the config since, PVE refuses, and we roll
      // back rather than overwrite a change we never saw.
      await configUpdates.applyConfig({ node, vmid, changes, digest: before.digest });
      if (input.settleSeconds > 0) {
        saga.at('settle', `${input.settleSeconds} s`);
        await sleep(input.settleSeconds * 1000);
      }
      saga.at('verify');
      checkLimits(await saga.read(reads, [node]), before, node, changes, wasRunning);
    },
    async () => {
      // Each round reads afresh, so a digest gone stale meanwhile is replaced by the current one.
      const now = await saga.read(compensations, [node]);
      if (!now) throw unrecoverable(`CT ${vmid} is gone`);
      // Only values that still read as ours go back: a value that never changed (the PUT failed) needs
      // nothing, and one someone else set since is theirs to keep.
      const current = limitsOf(now);
      const revert: Partial<Limits> = {};
      for (const key of limitKeys) {
        if (changes[key] !== undefined && current[key] === changes[key]) revert[key] = original[key];
      }
      if (Object.keys(revert).length > 0) {
        // A fresh digest: the one from preflight is stale by our own change.
        await compensations.applyConfig({ node: now.node, vmid, changes: revert, digest: now.digest });
      }
      // Restarted only after the old limits are back, so it does not die the same way again.
      const died = wasRunning && now.status !== 'running';
      if (died) await saga.task(compensations.requestStart({ node: now.node, vmid }));
      checkLimits(await saga.read(compensations, [now.node]), before, now.node, revert, wasRunning);
      const restored = { ...current, ...revert };
      return `CT ${vmid} is back to ${describe(restored)}${died ? ' and running again' : ''}`;
    },
  );
  return saga.succeed(node, `CT ${vmid} now has ${describe(target)}`);
}

function limitsOf(facts: ContainerFacts): Limits {
  return { cores: facts.cores, memory: facts.memoryMiB, swap: facts.swapMiB };
}

function differences(from: Limits, to: Limits): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const key of limitKeys) if (from[key] !== to[key]) out[key] = to[key];
  return out;
}

function describe(l: Limits): string {
  return `${l.cores} cores, ${l.memory} MiB memory, ${l.swap} MiB swap`;
}

function describeChange(from: Limits, changes: Partial<Limits>): string {
  const unit: Record<LimitKey, string> = { cores: '', memory: ' MiB', swap: ' MiB' };
  return limitKeys
    .filter((k) => changes[k] !== undefined)
    .map((k) => `${k} ${from[k]} → ${String(changes[k])}${unit[k]}`)
    .join(', ');
}

/**
 * The config holds `want` (the values this saga set; others' changes to other keys are theirs), the
 * container still runs if it ran, and a running container's status/current shows them live (PVE
 * applies cores and memory to the cgroup at once).
 */
function checkLimits(
  now: ContainerFacts | null,
  before: ContainerFacts,
  node: string,
  want: Partial<Limits>,
  running: boolean,
): void {
  const vmid = before.vmid;
  if (!now) throw unrecoverable(`CT ${vmid} is gone`);
  if (now.node !== node) throw verificationFailure(`CT ${vmid} moved to ${now.node} meanwhile`);
  if (running && now.status !== 'running') {
    throw verificationFailure(`CT ${vmid} stopped after the change (killed under its new limits?)`);
  }
  const config = limitsOf(now);
  const off = limitKeys.filter((k) => want[k] !== undefined && config[k] !== want[k]);
  if (off.length > 0) {
    const found = off.map((k) => `${k} ${config[k]}`).join(', ');
    const expected = off.map((k) => `${k} ${String(want[k])}`).join(', ');
    throw verificationFailure(`CT ${vmid} config has ${found}, expected ${expected}`);
  }
  if (now.status !== 'running') return;
  if (want.memory !== undefined && now.liveMaxmemBytes !== want.memory * MiB) {
    throw verificationFailure(
      `CT ${vmid} runs with ${Math.round(now.liveMaxmemBytes / MiB)} MiB, expected ${want.memory} MiB`,
    );
  }
  if (want.cores !== undefined && !coresShown(now.liveCpus, want.cores, before)) {
    throw verificationFailure(`CT ${vmid} runs with ${now.liveCpus} cpus, expected ${want.cores}`);
  }
}

/**
 * status/current reports `cpus` as the cores, or lower when a cpulimit caps them: a cap that held
 * before and still sits below the new cores is not a failed change.
 */
function coresShown(liveCpus: number, cores: number, before: ContainerFacts): boolean {
  if (liveCpus === cores) return true;
  const cappedBefore = before.liveCpus > 0 && before.liveCpus < before.cores;
  return cappedBefore && liveCpus === before.liveCpus && liveCpus < cores;
}
