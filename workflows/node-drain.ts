// nodeDrainWorkflow: maintenance of one node as a durable workflow (id drain-<cluster>-<node>). It
// tells the cluster manager, the generator and the other drains that the node is closed, then moves
// every managed container off it, at most `parallel` migrate sagas at once, each to the target the
// evacuation placement picks from a fresh observation. It stays running while the node is drained
// (so a running drain is what "drained" means) and ends when undrained, after telling them again.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { containerOperationId, describeIssues, snapshotOf, type MigrateInput } from '../src/domain';
import { planEvacuation, type MigrateAction } from '../src/policy';
import {
  clusterManagerWorkflowId,
  generatorWorkflowId,
  nodeDrainChangedSignal,
  nodeDrainWorkflowId,
  withDrainChange,
  type NodeDrainChange,
} from './messages';
import {
  nodeDrainInputSchema,
  nodeDrainStatusQuery,
  undrainNodeUpdate,
  type NodeDrainInput,
  type NodeDrainState,
} from './node-drain-messages';
import {
  failIfRefused,
  isAlreadyStarted,
  sagaFailureText,
  startSaga,
  type SagaHandle,
} from './saga-children';
import { reads } from './sagas/activities';
import { failureText, SagaFailureType } from './sagas/saga';
import { PveNode, PveOperation } from './search-attributes';

const MAX_FAILURES_KEPT = 20;
const MAX_MOVED_KEPT = 1000;

export async function nodeDrainWorkflow(raw: NodeDrainInput): Promise<NodeDrainState> {
  const parsed = nodeDrainInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: SagaFailureType.invalidInput,
      message: `invalid input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const drain = new NodeDrain(parsed.data);
  drain.registerHandlers();
  return drain.run();
}

type Input = ReturnType<typeof nodeDrainInputSchema.parse>;

class NodeDrain {
  private state: NodeDrainState;
  private readonly first: boolean;
  private wake = false;
  private undrainAsked = false;
  private running = 0;
  /** Moves that ended since the last look: the next look plans with them done. */
  private ended = 0;
  /**
   * Moves planned by the last look beyond the free slots (up to 2 K), their room already reserved
   * in that look's projection: a slot that frees starts the next one at once, and the cluster is
   * observed again only when they are used up. Not carried across continue-as-new: planned again.
   */
  private queue: MigrateAction[] = [];

  constructor(private readonly input: Input) {
    const carried = input.carried as NodeDrainState | undefined;
    this.first = carried === undefined;
    this.state = carried ?? {
      cluster: input.cluster,
      node: input.node,
      parallel: input.parallel,
      phase: 'evacuating',
      startedAt: Date.now(),
      otherDrained: input.settings.drainedNodes.filter((n) => n !== input.node).sort(),
      inFlight: [],
      moved: [],
      attempts: {},
      failures: [],
      remaining: [],
      blocked: [],
      unmanaged: [],
    };
    // A run never inherits children: continue-as-new waits for them (see run).
    this.state.inFlight = [];
    this.undrainAsked = this.state.phase === 'undraining';
  }

  /** Before the first await, so nothing sent at start is lost. */
  registerHandlers(): void {
    setHandler(nodeDrainStatusQuery, () => this.state);
    setHandler(nodeDrainChangedSignal, (change) => {
      const { node } = this.state;
      this.state.otherDrained = withDrainChange(this.state.otherDrained, change).filter((n) => n !== node);
      this.wake = true;
    });
    setHandler(undrainNodeUpdate, async () => {
      this.undrainAsked = true;
      if (this.state.phase !== 'undrained') this.state.phase = 'undraining';
      this.wake = true;
      this.refreshDetails();
      await condition(() => this.state.phase === 'undrained');
      return this.state;
    });
  }

  async run(): Promise<NodeDrainState> {
    upsertSearchAttributes([
      { key: PveOperation, value: 'drain' },
      { key: PveNode, value: this.state.node },
    ]);
    if (this.first) await this.announce(true);
    this.refreshDetails();
    while (!this.undrainAsked) {
      this.wake = false;
      if (workflowInfo().continueAsNewSuggested) {
        // Children are not carried over: let those in flight end first.
        await condition(() => this.running === 0);
        await condition(allHandlersFinished);
        await continueAsNew<typeof nodeDrainWorkflow>({ ...this.input, carried: this.state });
      }
      const free = this.state.parallel - this.running;
      if (free > 0 && this.queue.length > 0) await this.startQueued(free);
      else if (free > 0) await this.look(free);
      if (this.undrainAsked) break;
      this.refreshDetails();
      if (this.queue.length > 0 && this.running < this.state.parallel) {
        // Starts that failed (a busy container) left a slot: take the next planned move now.
        continue;
      } else if (this.state.phase === 'drained') {
        // Drained: a slow look now and then finds what arrived after the last one.
        await condition(() => this.wake, this.input.recheckSeconds * 1000);
      } else if (this.running > 0) {
        await condition(() => this.wake || this.ended > 0);
      } else {
        // Blocked with nothing in flight: look again later, room may have been made meanwhile.
        await condition(() => this.wake, this.input.retrySeconds * 1000);
      }
    }
    this.state.phase = 'undraining';
    this.refreshDetails();
    await condition(() => this.running === 0);
    await this.announce(false);
    this.state.phase = 'undrained';
    this.refreshDetails();
    await condition(allHandlersFinished);
    return this.state;
  }

  /** One observation, one plan, and the moves it allows started. */
  private async look(free: number): Promise<void> {
    this.ended = 0;
    let observed;
    try {
      observed = snapshotOf(await reads.observeCluster());
    } catch (err) {
      this.state.blocked = [{ vmid: 0, why: `could not observe the cluster: ${failureText(err)}` }];
      this.state.phase = 'blocked';
      return;
    }
    this.state.lastObservedAt = observed.takenAt;
    const { maxAttempts } = this.input;
    const exhausted = Object.entries(this.state.attempts)
      .filter(([, n]) => n >= maxAttempts)
      .map(([vmid]) => Number(vmid));
    const inFlight: MigrateAction[] = this.state.inFlight.map((m) => ({
      kind: 'migrate',
      vmid: m.vmid,
      from: this.state.node,
      to: m.to,
      reason: '',
    }));
    const plan = planEvacuation({
      snapshot: observed,
      settings: { ...this.input.settings, drainedNodes: [...this.state.otherDrained, this.state.node] },
      node: this.state.node,
      inFlight,
      slots: this.undrainAsked ? 0 : free + 2 * this.state.parallel,
      skip: exhausted,
    });
    this.state.remaining = plan.remaining;
    this.state.unmanaged = plan.unmanaged;
    this.state.blocked = [
      ...plan.blocked,
      ...exhausted
        .filter((vmid) => plan.remaining.includes(vmid))
        .map((vmid) => ({ vmid, why: `its migration failed ${maxAttempts} times; the drain leaves it` })),
    ].sort((a, b) => a.vmid - b.vmid);
    this.queue = plan.moves.slice(free);
    for (const move of plan.moves.slice(0, free)) await this.start(move);
    this.setPhase();
  }

  /** Starts planned moves from the queue into the free slots, without looking again. */
  private async startQueued(free: number): Promise<void> {
    this.ended = 0;
    for (let started = 0; started < free && this.queue.length > 0 && !this.undrainAsked;) {
      const move = this.queue.shift() as MigrateAction;
      const before = this.running;
      await this.start(move);
      if (this.running > before) started++;
    }
    this.setPhase();
  }

  private setPhase(): void {
    const left = this.state.remaining.filter((vmid) => !this.state.inFlight.some((m) => m.vmid === vmid));
    if (left.length === 0 && this.running === 0) {
      if (this.state.phase !== 'drained') this.state.drainedAt = Date.now();
      this.state.phase = 'drained';
      this.state.blocked = [];
    } else if (this.running === 0 && this.queue.length === 0) {
      this.state.phase = 'blocked';
    } else {
      this.state.phase = 'evacuating';
    }
  }

  private async start(move: MigrateAction): Promise<void> {
    const workflowId = containerOperationId(this.state.cluster, move.vmid);
    const input: MigrateInput = {
      vmid: move.vmid,
      target: move.to,
      mode: this.input.mode,
      admissionShare: this.input.settings.admissionShare,
      reason: `[drain] ${move.reason}`.slice(0, 500),
    };
    let handle: SagaHandle;
    try {
      handle = await startSaga('migrateContainerWorkflow', input, workflowId);
    } catch (err) {
      // Another operation holds the container (the manager's, a person's): not a failure, try later.
      const detail = isAlreadyStarted(err)
        ? `CT ${move.vmid} is busy with another operation (${workflowId})`
        : `could not start: ${failureText(err)}`;
      this.state.blocked.push({ vmid: move.vmid, why: detail });
      if (!isAlreadyStarted(err)) this.fail(move.vmid, detail);
      return;
    }
    this.running++;
    this.state.inFlight.push({ vmid: move.vmid, to: move.to, workflowId, startedAt: Date.now() });
    void this.follow(move, handle);
  }

  private async follow(move: MigrateAction, handle: SagaHandle): Promise<void> {
    try {
      failIfRefused(await handle.result());
      this.state.moved = [...this.state.moved, { vmid: move.vmid, to: move.to, at: Date.now() }].slice(
        -MAX_MOVED_KEPT,
      );
      this.state.remaining = this.state.remaining.filter((vmid) => vmid !== move.vmid);
    } catch (err) {
      const detail = sagaFailureText(err);
      log.warn('drain: a migration failed', { vmid: move.vmid, detail });
      this.fail(move.vmid, detail);
    }
    this.state.inFlight = this.state.inFlight.filter((m) => m.vmid !== move.vmid);
    this.running--;
    this.ended++;
  }

  private fail(vmid: number, detail: string): void {
    const key = String(vmid);
    this.state.attempts[key] = (this.state.attempts[key] ?? 0) + 1;
    this.state.failures = [...this.state.failures, { vmid, detail, at: Date.now() }].slice(
      -MAX_FAILURES_KEPT,
    );
  }

  /**
   * Tells the manager, the generator and the other drains. A workflow that is not running misses
   * nothing: `manager start` and `generator start` read the running drains when they start.
   */
  private async announce(drained: boolean): Promise<void> {
    const { cluster, node } = this.state;
    const change: NodeDrainChange = { node, drained };
    const targets = [
      clusterManagerWorkflowId(cluster),
      generatorWorkflowId(cluster),
      ...this.state.otherDrained.map((other) => nodeDrainWorkflowId(cluster, other)),
    ];
    for (const id of targets) {
      try {
        await getExternalWorkflowHandle(id).signal(nodeDrainChangedSignal, change);
      } catch {
        // Not running: nothing to tell.
      }
    }
  }

  private refreshDetails(): void {
    const s = this.state;
    const moving = s.inFlight.map((m) => `CT ${m.vmid} → ${m.to}`).join(', ');
    const parts = [
      `**drain ${s.node}** · ${s.phase}`,
      `moved ${s.moved.length}, ${s.remaining.length} managed left, ${s.parallel} at a time`,
      ...(moving ? [`moving: ${moving}`] : []),
      ...(s.blocked.length > 0
        ? [`blocked: ${s.blocked.map((b) => (b.vmid ? `CT ${b.vmid}: ${b.why}` : b.why)).join('; ')}`]
        : []),
      s.unmanaged.length > 0
        ? `left (unmanaged): ${s.unmanaged.map((g) => `${g.vmid} ${g.name}`).join(', ')}`
        : 'left (unmanaged): none',
    ];
    setCurrentDetails(parts.join(' · '));
  }
}
