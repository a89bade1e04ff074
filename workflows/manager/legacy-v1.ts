// The lab-only cluster manager as it ran before the decision core, frozen: runs that began under it
// replay on this code (Temporal requires the same commands in the same order) and hand over to the
// current manager by continue-as-new at their next loop turn. Do not change what it does; delete it
// once no run older than the decision core remains (pve-autopilot list shows none without the
// decision-core marker, or every manager has continued as new since).
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  containerOperationId,
  type Action,
  type AutomationLevel,
  type ClusterSnapshot,
  type DropInput,
  type MigrateInput,
  type OperationResult,
  type ScaleInput,
  snapshotOf,
} from '../../src/domain';
import {
  decide,
  labRules,
  thresholdsProblem,
  withActionFinished,
  withActionsStarted,
  withoutExpiredCooldowns,
  type Decision,
  type DecisionMemory,
  type ManagerPolicy,
} from '../../src/policy';
import { defineQuery, defineUpdate } from '@temporalio/workflow';

// The same names as in messages.ts, typed with the lab-only state this code carries.
const managerStatusQuery = defineQuery<LegacyManagerState>('managerStatus');
const lastSnapshotQuery = defineQuery<ClusterSnapshot | null>('lastSnapshot');
const pauseManagerUpdate = defineUpdate<LegacyManagerState>('pauseManager');
const resumeManagerUpdate = defineUpdate<LegacyManagerState>('resumeManager');
const stopManagerUpdate = defineUpdate<LegacyManagerState>('stopManager');
const approveUpdate = defineUpdate<string[], [string[]]>('approve');
const setThresholdsUpdate = defineUpdate<
  LegacyManagerState,
  [{ migratePercent?: number; dropPercent?: number }]
>('setThresholds');
const setAutomationUpdate = defineUpdate<LegacyManagerState, [AutomationLevel]>('setAutomation');
import {
  approvable,
  approvalProblem,
  newDecisions,
  trimmed,
  withRecommendations,
  withRecommendationsExpired,
} from '../../src/policy';
import { detailsLine, summarize, type ObservationSummary } from './summary';
import {
  failIfRefused,
  isAlreadyStarted,
  sagaFailureText,
  startSaga,
  type SagaHandle,
} from '../saga-children';
import { reads } from '../sagas/activities';
import { failureText, SagaFailureType } from '../sagas/saga';
import { HAND_OVER_PATCH } from './patches';

const DEFAULT_CYCLES_PER_RUN = 500;

const AUTOMATION_LEVELS: readonly AutomationLevel[] = ['off', 'recommend', 'auto'];

export interface LegacyManagerInput {
  cluster: string;
  policy: ManagerPolicy;
  automation: AutomationLevel;
  cycleSeconds: number;
  seed: number;
  iterationsPerRun?: number;
  carried?: LegacyManagerState;
}

export interface LegacyManagerState {
  runState: 'running' | 'paused' | 'stopping' | 'stopped';
  automation: AutomationLevel;
  policy: ManagerPolicy;
  cycle: number;
  lastObservation?: ObservationSummary;
  decisions: Decision[];
  notes?: string[];
  memory: { inFlight: Action[]; cooldownUntil: Record<string, number>; seed: number };
}

export function isLegacyManagerInput(input: unknown): input is LegacyManagerInput {
  return typeof input === 'object' && input !== null && 'policy' in input;
}

export async function runLegacyManager(input: LegacyManagerInput): Promise<LegacyManagerState> {
  const manager = new ClusterManager(input);
  manager.registerHandlers();
  return manager.run();
}

type ManagerInput = LegacyManagerInput;
type ManagerState = LegacyManagerState;

/**
 * Continue-as-new waits for the sagas in flight first (they are bounded by maxConcurrent), so the
 * carried state never holds a child to re-adopt: the new run starts with nothing in flight, and
 * every decision's outcome is already recorded in the state it carries.
 */
class ClusterManager {
  private state: ManagerState;
  private snapshot: ClusterSnapshot | null = null;
  /** Set by updates that should not wait for the next cycle (resume, approve, stop). */
  private wake = false;
  private observing = false;
  private childrenRunning = 0;
  private problem: string | undefined;
  private nextCycleAt = 0;

  constructor(private readonly input: ManagerInput) {
    const problem =
      thresholdsProblem(input.policy, input.policy) ??
      (input.cycleSeconds > 0 ? null : `cycleSeconds: expected a number > 0, got ${input.cycleSeconds}`) ??
      (AUTOMATION_LEVELS.includes(input.automation)
        ? null
        : `automation: expected one of ${AUTOMATION_LEVELS.join(', ')}`);
    if (problem) {
      throw ApplicationFailure.create({
        type: SagaFailureType.invalidInput,
        message: `invalid input: ${problem}`,
        nonRetryable: true,
      });
    }
    this.state = input.carried ?? {
      runState: 'running',
      automation: input.automation,
      policy: input.policy,
      cycle: 0,
      decisions: [],
      memory: { inFlight: [], cooldownUntil: {}, seed: input.seed >>> 0 },
    };
    // A run never inherits children (see the class comment); in-flight memory from an older run
    // would only block the budget forever.
    this.state.memory.inFlight = [];
  }

  /** Before the first await, so no update or query sent at start is lost. */
  registerHandlers(): void {
    setHandler(managerStatusQuery, () => this.state);
    setHandler(lastSnapshotQuery, () => this.snapshot);
    setHandler(pauseManagerUpdate, async () => {
      if (this.state.runState === 'running') this.state.runState = 'paused';
      // Returns once no observation is under way, so the caller knows nothing more will happen.
      await condition(() => !this.observing);
      this.refreshDetails();
      return this.state;
    });
    setHandler(resumeManagerUpdate, () => {
      if (this.state.runState === 'paused') this.state.runState = 'running';
      this.wake = true;
      this.refreshDetails();
      return this.state;
    });
    setHandler(stopManagerUpdate, () => {
      if (this.state.runState !== 'stopped') this.state.runState = 'stopping';
      this.wake = true;
      this.refreshDetails();
      return this.state;
    });
    setHandler(
      approveUpdate,
      (ids) => {
        const approved = approvable(this.state.decisions, ids);
        this.state.decisions = this.state.decisions.map((d) =>
          approved.includes(d.id) ? { ...d, status: 'approved' } : d,
        );
        this.wake = true;
        this.refreshDetails();
        return approved;
      },
      {
        validator: (ids) => {
          const problem = approvalProblem(this.state.decisions, ids);
          if (problem) throw new Error(problem);
        },
      },
    );
    setHandler(
      setThresholdsUpdate,
      (change) => {
        this.state.policy = {
          ...this.state.policy,
          ...(change.migratePercent === undefined ? {} : { migratePercent: change.migratePercent }),
          ...(change.dropPercent === undefined ? {} : { dropPercent: change.dropPercent }),
        };
        return this.state;
      },
      {
        validator: (change) => {
          const problem = thresholdsProblem(this.state.policy, change);
          if (problem) throw new Error(problem);
        },
      },
    );
    setHandler(
      setAutomationUpdate,
      (level) => {
        if (level !== this.state.automation && this.state.automation === 'recommend') {
          this.state.decisions = withRecommendationsExpired(
            this.state.decisions,
            `automation changed to ${level}`,
          );
        }
        this.state.automation = level;
        this.wake = true;
        this.refreshDetails();
        return this.state;
      },
      {
        validator: (level) => {
          if (!AUTOMATION_LEVELS.includes(level)) {
            throw new Error(
              `automation: expected one of ${AUTOMATION_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
            );
          }
        },
      },
    );
  }

  async run(): Promise<ManagerState> {
    const cyclesPerRun = this.input.iterationsPerRun ?? DEFAULT_CYCLES_PER_RUN;
    let cycles = 0;
    this.refreshDetails();
    while (!this.stopping()) {
      // Cleared here, not just before the wait, so a wake during the cycle re-runs the loop at once.
      this.wake = false;
      if (this.active() && Date.now() >= this.nextCycleAt) {
        this.nextCycleAt = Date.now() + this.input.cycleSeconds * 1000;
        await this.cycle();
        cycles++;
      }
      if (this.active()) await this.startApproved();
      if (this.stopping()) break;
      // Live on new code (not replaying an old history): hand over to the current manager now.
      if (cycles >= cyclesPerRun || workflowInfo().continueAsNewSuggested || patched(HAND_OVER_PATCH)) {
        await condition(() => this.childrenRunning === 0);
        await condition(allHandlersFinished);
        const { automation, policy } = this.state;
        await continueAsNew<(input: LegacyManagerInput) => Promise<LegacyManagerState>>({
          ...this.input,
          automation,
          policy,
          carried: this.state,
        });
      }
      if (this.active()) {
        await condition(() => this.wake, Math.max(1, this.nextCycleAt - Date.now()));
      } else {
        // Paused or off: no timers at all, so an idle manager adds nothing to its history.
        await condition(() => this.wake);
      }
    }
    // Stopping: start nothing new, let the sagas in flight finish and record their outcomes.
    await condition(() => this.childrenRunning === 0);
    this.state.runState = 'stopped';
    this.refreshDetails();
    await condition(allHandlersFinished);
    return this.state;
  }

  /** A method, not an inline comparison: updates change runState across awaits. */
  private stopping(): boolean {
    return this.state.runState === 'stopping';
  }

  private active(): boolean {
    return this.state.runState === 'running' && this.state.automation !== 'off';
  }

  /** observe → decide → act. Observation is exactly one activity; nothing else reads the API. */
  private async cycle(): Promise<void> {
    const cycle = ++this.state.cycle;
    this.observing = true;
    let snapshot: ClusterSnapshot;
    try {
      snapshot = snapshotOf(await reads.observeCluster());
    } catch (err) {
      // A cluster that cannot be read is a reason to try again next cycle, never to end the manager.
      this.problem = `cycle ${cycle}: could not observe the cluster: ${failureText(err)}`;
      log.warn(this.problem);
      this.refreshDetails();
      return;
    } finally {
      this.observing = false;
    }
    this.problem = undefined;
    this.snapshot = snapshot;
    this.state.lastObservation = summarize(
      snapshot,
      this.state.policy.scope,
      this.state.policy.capacityBasis,
    );
    // Paused (or turned off) while the observation was in flight: a paused manager acts on nothing.
    if (!this.active()) {
      this.refreshDetails();
      return;
    }

    const memory = withoutExpiredCooldowns(this.memory());
    const { actions, notes, seed } = decide(snapshot, this.state.policy, memory, labRules);
    this.state.memory = { ...this.state.memory, cooldownUntil: memory.cooldownUntil, seed };
    this.state.notes = notes;
    for (const note of notes) log.info(note, { cycle });

    const now = Date.now();
    if (this.state.automation === 'recommend') {
      this.state.decisions = withRecommendations(this.state.decisions, actions, cycle, now);
    } else {
      const decisions = newDecisions(actions, cycle, now, 'approved');
      this.state.decisions = trimmed([...this.state.decisions, ...decisions]);
      for (const d of decisions) {
        if (this.active()) await this.start(d.id);
        else this.update(d.id, { status: 'expired', detail: 'not started: the manager was paused first' });
      }
    }
    this.refreshDetails();
  }

  /** Approved decisions (by a human, or by auto mode) wait here for a free slot of maxConcurrent. */
  private async startApproved(): Promise<void> {
    for (const d of this.state.decisions.filter((x) => x.status === 'approved')) {
      if (!this.active()) return;
      if (this.state.memory.inFlight.length >= this.state.policy.maxConcurrent) return;
      await this.start(d.id);
    }
  }

  /** Starts one decision's saga; it then runs on its own while the cycle goes on. */
  private async start(id: string): Promise<void> {
    const decision = this.decision(id);
    if (!decision || decision.status !== 'approved') return;
    const { action } = decision;
    if (action.kind === 'provision') {
      // The manager has no container template; placing new containers is the generator's job.
      this.update(id, { status: 'rejected', detail: 'the cluster manager does not provision containers' });
      return;
    }
    const workflowId = containerOperationId(this.input.cluster, action.vmid);
    // Counted in flight before the start is acknowledged, so nothing else takes the slot meanwhile.
    this.setMemory(withActionsStarted(this.memory(), [action]));
    this.update(id, { status: 'running', workflowId });
    let handle: SagaHandle;
    try {
      handle = await this.startSagaFor(action, workflowId);
    } catch (err) {
      // Not started, so no cooldown: cooldown 0 only takes it out of the in-flight list.
      this.setMemory(withActionFinished(this.memory(), action, Date.now(), 0));
      this.update(id, {
        status: 'rejected',
        detail: isAlreadyStarted(err)
          ? `skipped: another operation on CT ${action.vmid} is in flight (${workflowId})`
          : `could not start: ${failureText(err)}`,
      });
      this.refreshDetails();
      return;
    }
    this.childrenRunning++;
    void this.follow(id, action, handle);
  }

  private startSagaFor(
    action: Exclude<Action, { kind: 'provision' }>,
    workflowId: string,
  ): Promise<SagaHandle> {
    const { scope, admissionShare } = this.state.policy;
    const reason = action.reason.slice(0, 500);
    switch (action.kind) {
      case 'migrate': {
        const input: MigrateInput = { vmid: action.vmid, target: action.to, scope, admissionShare, reason };
        return startSaga('migrateContainerWorkflow', input, workflowId);
      }
      case 'drop': {
        const input: DropInput = { vmid: action.vmid, scope, mode: action.mode, reason };
        return startSaga('dropContainerWorkflow', input, workflowId);
      }
      case 'scale': {
        const input: ScaleInput = {
          vmid: action.vmid,
          scope,
          reason,
          ...(action.cores === undefined ? {} : { cores: action.cores }),
          ...(action.memoryMiB === undefined ? {} : { memoryMiB: action.memoryMiB }),
          ...(action.swapMiB === undefined ? {} : { swapMiB: action.swapMiB }),
        };
        return startSaga('scaleContainerWorkflow', input, workflowId);
      }
    }
  }

  /** Records the saga's outcome and starts the container's cooldown, whatever the outcome. */
  private async follow(id: string, action: Action, handle: SagaHandle): Promise<void> {
    try {
      const result: OperationResult = failIfRefused(await handle.result());
      this.update(id, { status: 'succeeded', detail: result.detail });
    } catch (err) {
      this.update(id, { status: 'failed', detail: sagaFailureText(err) });
    } finally {
      this.setMemory(withActionFinished(this.memory(), action, Date.now(), this.state.policy.cooldownMs));
      this.childrenRunning--;
      // A freed slot may let an approved decision start before the next cycle.
      this.wake = true;
      this.refreshDetails();
    }
  }

  private memory(): DecisionMemory {
    return { now: Date.now(), ...this.state.memory };
  }

  private setMemory(memory: DecisionMemory): void {
    const { inFlight, cooldownUntil, seed } = memory;
    this.state.memory = { inFlight, cooldownUntil, seed };
  }

  private decision(id: string): Decision | undefined {
    return this.state.decisions.find((d) => d.id === id);
  }

  private update(id: string, change: Partial<Decision>): void {
    this.state.decisions = this.state.decisions.map((d) => (d.id === id ? { ...d, ...change } : d));
  }

  private refreshDetails(): void {
    setCurrentDetails(detailsLine(this.state, this.problem));
  }
}
