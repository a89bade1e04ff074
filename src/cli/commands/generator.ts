// `pve-autopilot generator ...`: start the load generator from the config, pause, resume or stop it
// through its updates, and read its state through its query.
import { arrivalLawOf, containerTemplateOf, generatorPolicyOf } from '../../config';
import type { ArrivalLaw } from '../../policy';
import {
  generatorStatusQuery,
  pauseGeneratorUpdate,
  resumeGeneratorUpdate,
  stopGeneratorUpdate,
  type GeneratorInput,
  type GeneratorState,
} from '../../../workflows/messages';
import type { Command } from '../args';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson, table } from '../output';
import {
  askLoop,
  clock,
  describeLoop,
  generatorLoop,
  randomSeed,
  runningLoop,
  startLoop,
} from './long-running';
import { runningDrains } from './node';

type GeneratorCommand = Extract<Command, { name: 'generator' }>;

export async function generatorCommand(ctx: Context, command: GeneratorCommand): Promise<number> {
  if (command.action === 'start') {
    const input = generatorInput(ctx, command);
    // The nodes drained now; later drains and undrains reach the generator as signals.
    const drainedNodes = await runningDrains(await ctx.temporal(), ctx.cluster);
    if (drainedNodes.length > 0) input.drainedNodes = drainedNodes;
    return startLoop(ctx, generatorLoop, input, `generator: ${describeArrival(input.arrival)}`);
  }
  if (command.action === 'status') return generatorStatus(ctx);
  const client = await ctx.temporal();
  const handle = await runningLoop(ctx, client, generatorLoop);
  const update = { pause: pauseGeneratorUpdate, resume: resumeGeneratorUpdate, stop: stopGeneratorUpdate }[
    command.action
  ];
  const state = await askLoop(ctx, client, generatorLoop, () => handle.executeUpdate(update));
  if (ctx.global.json) printJson(ctx.io, { workflowId: handle.workflowId, state });
  else line(ctx.io.stdout, `Generator of cluster ${ctx.cluster}: ${state.runState}`);
  return ExitCode.ok;
}

export function generatorInput(
  ctx: Context,
  command: { seed?: number; maxContainers?: number },
): GeneratorInput {
  const { config } = ctx;
  return {
    cluster: ctx.cluster,
    policy: generatorPolicyOf(config),
    arrival: arrivalLawOf(config),
    container: containerTemplateOf(config),
    backoffSeconds: config.generator.backoffSeconds,
    admissionShare: config.manager.admissionShare,
    seed: command.seed ?? randomSeed(),
    ...(command.maxContainers === undefined ? {} : { maxContainers: command.maxContainers }),
  };
}

export function describeArrival(law: ArrivalLaw): string {
  switch (law.law) {
    case 'periodic':
      return `one container every ${law.periodSeconds} s`;
    case 'uniform':
      return `one container every ${law.minSeconds} to ${law.maxSeconds} s (uniform)`;
    case 'exponential':
      return `one container every ${law.meanSeconds} s on average (exponential)`;
  }
}

async function generatorStatus(ctx: Context): Promise<number> {
  const client = await ctx.temporal();
  const description = await describeLoop(client, generatorLoop, ctx.cluster);
  const workflowId = generatorLoop.workflowId(ctx.cluster);
  if (description === null) {
    if (ctx.global.json) printJson(ctx.io, { workflowId, running: false, workflowStatus: null, state: null });
    else
      line(
        ctx.io.stdout,
        `The generator of cluster ${ctx.cluster} was never started (pve-autopilot generator start).`,
      );
    return ExitCode.ok;
  }
  const running = description.status.name === 'RUNNING';
  const handle = client.workflow.getHandle(workflowId);
  const query = askLoop(ctx, client, generatorLoop, () => handle.query(generatorStatusQuery));
  // A finished run may have nothing left to answer with; its end is then all there is to say.
  const state = running ? await query : await query.catch(() => null);
  const url = ctx.workflowUrl(workflowId);
  if (ctx.global.json) {
    printJson(ctx.io, { workflowId, running, workflowStatus: description.status.name, url, state });
  } else if (state === null) {
    line(ctx.io.stdout, `Generator of cluster ${ctx.cluster}: ${description.status.name.toLowerCase()}`);
    line(ctx.io.stdout, `  workflow ${workflowId}  ${url}`);
  } else {
    printState(ctx, state, workflowId);
  }
  return ExitCode.ok;
}

function printState(ctx: Context, state: GeneratorState, workflowId: string): void {
  const out = ctx.io.stdout;
  line(out, `Generator of cluster ${ctx.cluster}: ${state.runState}`);
  line(out, `  workflow ${workflowId}  ${ctx.workflowUrl(workflowId)}`);
  line(out, `  arrivals: ${describeArrival(state.arrival)}`);
  if (state.nextArrivalAt !== undefined) line(out, `  next arrival at ${clock(state.nextArrivalAt)} UTC`);
  const c = state.counters;
  line(out, `  created ${c.created}, failed ${c.failed}, skipped for capacity ${c.skippedForCapacity}`);
  if (state.recent.length === 0) return;
  line(out);
  line(
    out,
    table(
      ['TIME (UTC)', 'NODE', 'MEMORY', 'VMID', 'OUTCOME', 'DETAIL'],
      state.recent.map((r) => [
        clock(r.at),
        r.node ?? '-',
        `${r.memoryMiB} MiB`,
        r.vmid === undefined ? '-' : String(r.vmid),
        r.outcome,
        r.detail ?? '',
      ]),
      [2, 3],
    ),
  );
}
