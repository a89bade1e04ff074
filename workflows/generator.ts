// generatorWorkflow: the lab's container generator as a durable loop. At each arrival (periodic,
// uniform or exponential, drawn from the carried PRNG) it reads the cluster once, picks a node under
// the generation limit by weight, and creates one container through the provision saga; when every
// node is full it backs off. Updates pause, resume, retune and stop it while it runs.
import {
  patched,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { containerOperationId, snapshotOf, type ClusterSnapshot, type ProvisionInput } from '../src/domain';
import { arrivalLawProblem, createRandom, nextInterArrival, planProvision } from '../src/policy';
import { generatorInputSchema } from '../src/policy/generator-input';
import {
  generatorStatusQuery,
  nodeDrainChangedSignal,
  pauseGeneratorUpdate,
  resumeGeneratorUpdate,
  setArrivalUpdate,
  stopGeneratorUpdate,
  withDrainChange,
  type GeneratorChoice,
  type GeneratorInput,
  type GeneratorState,
} from './messages';
import { failIfRefused, isAlreadyStarted, sagaFailureText, startSaga } from './saga-children';
import { reads } from './sagas/activities';
import { invalidUpdate } from './update-rejection';
import { failureText, parseInput } from './sagas/saga';

/** Arrivals per run before continue-as-new, when the server has not suggested it earlier. */
export const DEFAULT_ARRIVALS_PER_RUN = 500;
const RECENT_CHOICES = 20;

export async function generatorWorkflow(raw: GeneratorInput): Promise<GeneratorState> {
  // Before anything else: a bad input fails the run at once with the field path, never a TypeError
  // that would retry the workflow task for ever.
  const input: GeneratorInput = parseInput(generatorInputSchema, raw);
  const generator = new Generator(input);
  generator.registerHandlers();
  return generator.run();
}

/**
 * One creation at a time, awaited before the next arrival: the next capacity check then sees the
 * container just made, so no node passes the limit by more than one container's memory. Stop lets
 * the creation in progress finish; continue-as-new happens between arrivals, with nothing in flight.
 */
class Generator {
  private state: GeneratorState;
  /** Set by updates that should end the wait for the next arrival early (resume, stop, setArrival). */
  private wake = false;
  /** setArrival asks for the next arrival to be drawn again from the new law. */
  private redraw = false;
  /** A provision saga is running; pause waits for it to end. */
  private creating = false;

  constructor(private readonly input: GeneratorInput) {
    this.state = input.carried ?? {
      runState: 'running',
      arrival: input.arrival,
      counters: { created: 0, failed: 0, skippedForCapacity: 0 },
      recent: [],
      seed: input.seed >>> 0,
      ...(input.drainedNodes && input.drainedNodes.length > 0
        ? { drainedNodes: [...input.drainedNodes] }
        : {}),
    };
  }

  /** Before the first await, so no update or query sent at start is lost. */
  registerHandlers(): void {
    setHandler(generatorStatusQuery, () => this.state);
    // From the node drain workflows: no container is created on a drained node.
    setHandler(nodeDrainChangedSignal, (change) => {
      this.state.drainedNodes = withDrainChange(this.state.drainedNodes ?? [], change);
    });
    // Returns once no creation is in flight: after a pause, nothing more is created until resume.
    setHandler(pauseGeneratorUpdate, async () => {
      if (this.state.runState === 'running' || this.state.runState === 'backing-off') {
        this.state.runState = 'paused';
      }
      this.refreshDetails();
      await condition(() => !this.creating);
      return this.state;
    });
    setHandler(resumeGeneratorUpdate, () => {
      if (this.state.runState === 'paused') this.state.runState = 'running';
      this.wake = true;
      this.refreshDetails();
      return this.state;
    });
    setHandler(stopGeneratorUpdate, () => {
      if (this.state.runState !== 'stopped') this.state.runState = 'stopping';
      this.wake = true;
      this.refreshDetails();
      return this.state;
    });
    setHandler(
      setArrivalUpdate,
      (law) => {
        this.state.arrival = law;
        this.redraw = true;
        this.wake = true;
        this.refreshDetails();
        return this.state;
      },
      {
        validator: (law) => {
          const problem = arrivalLawProblem(law);
          if (problem) throw invalidUpdate(problem);
        },
      },
    );
  }

  async run(): Promise<GeneratorState> {
    const arrivalsPerRun = this.input.iterationsPerRun ?? DEFAULT_ARRIVALS_PER_RUN;
    let arrivals = 0;
    this.refreshDetails();
    while (!this.stopping() && !this.reachedMax()) {
      this.wake = false;
      if (this.paused()) {
        // No timer while paused, so an idle generator adds nothing to its history.
        await condition(() => this.wake);
        continue;
      }
      if (this.redraw && this.state.runState !== 'backing-off') {
        this.redraw = false;
        this.scheduleNextArrival(Date.now());
      }
      const due = this.state.nextArrivalAt ?? Date.now();
      if (Date.now() < due) {
        // Woken early by an update: loop to look at the new state before arriving.
        if (await condition(() => this.wake, due - Date.now())) continue;
      }
      if (this.paused() || this.stopping()) continue;

      const startedAt = Date.now();
      const outcome = await this.arrive();
      arrivals++;
      // A pause or stop that came in during the arrival wins over what the arrival would set.
      if (outcome === 'skipped-capacity') {
        if (this.state.runState === 'running') this.state.runState = 'backing-off';
        this.state.nextArrivalAt = Date.now() + this.input.backoffSeconds * 1000;
      } else {
        if (this.state.runState === 'backing-off') this.state.runState = 'running';
        this.redraw = false;
        // The next arrival counts from this one's start: the creation's own time is part of the gap.
        this.scheduleNextArrival(startedAt);
      }
      this.refreshDetails();

      if (!this.stopping() && (arrivals >= arrivalsPerRun || workflowInfo().continueAsNewSuggested)) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof generatorWorkflow>({
          ...this.input,
          arrival: this.state.arrival,
          carried: this.state,
        });
      }
    }
    this.state.runState = 'stopped';
    delete this.state.nextArrivalAt;
    this.refreshDetails();
    await condition(allHandlersFinished);
    return this.state;
  }

  /** A method, not an inline comparison: updates change runState across awaits. */
  private stopping(): boolean {
    return this.state.runState === 'stopping';
  }

  private paused(): boolean {
    return this.state.runState === 'paused';
  }

  private reachedMax(): boolean {
    const max = this.input.maxContainers;
    return max !== undefined && this.state.counters.created >= max;
  }

  private scheduleNextArrival(from: number): void {
    const { seconds, state } = nextInterArrival(this.state.arrival, this.state.seed);
    this.state.seed = state;
    this.state.nextArrivalAt = Math.max(Date.now(), from + Math.round(seconds * 1000));
  }

  /** One arrival: observe once, check capacity, create at most one container. */
  private async arrive(): Promise<GeneratorChoice['outcome']> {
    const at = Date.now();
    let snapshot: ClusterSnapshot;
    try {
      snapshot = snapshotOf(await reads.observeCluster());
    } catch (err) {
      this.state.counters.failed++;
      this.record({
        at,
        node: null,
        memoryMiB: 0,
        outcome: 'failed',
        detail: `could not observe the cluster: ${failureText(err)}`,
      });
      return 'failed';
    }

    const random = createRandom(this.state.seed);
    const plan = planProvision(
      snapshot,
      this.input.policy,
      { node: random.next(), memory: random.next() },
      this.state.drainedNodes ?? [],
    );
    this.state.seed = random.state();
    if (!plan) {
      this.state.counters.skippedForCapacity++;
      this.record({
        at,
        node: null,
        memoryMiB: 0,
        outcome: 'skipped-capacity',
        detail:
          `every node is at or over the ${this.input.policy.limitPercent} % generation limit` +
          ((this.input.policy.affinity ?? []).length > 0 ? ' or kept off by an affinity rule' : ''),
      });
      return 'skipped-capacity';
    }

    const { node, memoryMiB, reason } = plan;
    const { counters } = this.state;
    const request: ProvisionInput = {
      ...this.input.container,
      node,
      memoryMiB,
      start: true,
      reason: reason.slice(0, 500),
      ...(this.input.admissionShare !== undefined ? { admissionShare: this.input.admissionShare } : {}),
    };
    let workflowId: string;
    // The vmid is allocated here and the saga runs under the container's own id, so no other
    // operation (a manager's migrate) can start on the vmid while it is being created. Runs that
    // began before this replay the old way: the saga allocated, under an id of its own.
    if (patched('provision-on-allocated-vmid')) {
      let vmid: number | null = null;
      let why = 'no free vmid in the managed range (ids destroyed in the last minutes are held back)';
      try {
        vmid = await reads.allocateVmid({ skip: [] });
      } catch (err) {
        why = `could not allocate a vmid: ${failureText(err)}`;
      }
      if (vmid === null) {
        counters.failed++;
        this.record({ at, node, memoryMiB, outcome: 'failed', detail: why });
        return 'failed';
      }
      request.vmid = vmid;
      workflowId = containerOperationId(this.input.cluster, vmid);
    } else {
      workflowId = provisionWorkflowId(this.input.cluster, counters.created + counters.failed + 1);
    }
    this.creating = true;
    try {
      const handle = await startSaga('provisionContainerWorkflow', request, workflowId);
      const result = failIfRefused(await handle.result());
      counters.created++;
      this.record({ at, node, memoryMiB, vmid: result.vmid, outcome: 'created', detail: result.detail });
      return 'created';
    } catch (err) {
      counters.failed++;
      const detail = isAlreadyStarted(err)
        ? `not started: CT ${request.vmid ?? '?'} is busy, ${workflowId} is running`
        : sagaFailureText(err);
      log.warn('provision failed', { workflowId, detail });
      this.record({ at, node, memoryMiB, outcome: 'failed', detail });
      return 'failed';
    } finally {
      this.creating = false;
    }
  }

  private record(choice: GeneratorChoice): void {
    this.state.recent = [...this.state.recent, choice].slice(-RECENT_CHOICES);
  }

  private refreshDetails(): void {
    const { runState, counters, recent, nextArrivalAt } = this.state;
    const last = recent[recent.length - 1];
    const parts = [
      `**generator** · ${runState}`,
      `created ${counters.created}, failed ${counters.failed}, skipped for capacity ${counters.skippedForCapacity}`,
      ...(nextArrivalAt !== undefined && (runState === 'running' || runState === 'backing-off')
        ? [`next arrival in ${Math.max(0, (nextArrivalAt - Date.now()) / 1000).toFixed(1)} s`]
        : []),
      ...(last ? [`last: ${describeChoice(last)}`] : []),
    ];
    setCurrentDetails(parts.join(' · '));
  }
}

/**
 * The provision id of runs started before the vmid was allocated first (see arrive). Unique along
 * the whole chain of runs: the first run's id survives continue-as-new.
 */
function provisionWorkflowId(cluster: string, n: number): string {
  return `provision-${cluster}-${workflowInfo().firstExecutionRunId.slice(0, 8)}-${n}`;
}

function describeChoice(c: GeneratorChoice): string {
  switch (c.outcome) {
    case 'created':
      return `CT ${c.vmid ?? '?'} (${c.memoryMiB} MiB) on ${c.node ?? '?'}`;
    case 'failed':
      return `failed: ${c.detail ?? 'unknown'}`;
    case 'skipped-capacity':
      return 'every node full, backing off';
  }
}
