// clusterManagerWorkflow: the monitoring cycle as an entity workflow, a thin shell around the pure
// round in src/policy/step.ts. Every cycleSeconds it observes the cluster (one activity), calls step,
// and starts the commands as child sagas that run alongside the cycle; their outcomes go back into
// the next step. Updates pause, resume, retune and approve while it runs.
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
  snapshotOf,
  type AutomationLevel,
  type ClusterSnapshot,
  type DropInput,
  type MigrateInput,
  type ScaleInput,
} from '../src/domain';
import {
  approvalProblem,
  approve,
  emptyCore,
  ruleNames,
  ruleRegistry,
  step,
  withNetworkRates,
  withRecommendationsExpired,
  type Command,
  type EnabledRule,
  type RuleBase,
  type SagaOutcome,
} from '../src/policy';
import {
  approveUpdate,
  lastSnapshotQuery,
  managerStatusQuery,
  nodeDrainChangedSignal,
  pauseManagerUpdate,
  resumeManagerUpdate,
  setAutomationUpdate,
  setThresholdsUpdate,
  stopManagerUpdate,
  withDrainChange,
  type AutomationChange,
  type ManagerInput,
  type ManagerState,
} from './messages';
import { isLegacyManagerInput, runLegacyManager, type LegacyManagerInput } from './manager/legacy-v1';
import { ManagerInputError, parseManagerInput } from './manager/input';
import { DECISION_CORE_PATCH } from './manager/patches';
import { detailsLine, summarize } from './manager/summary';
import {
  failIfRefused,
  isAlreadyStarted,
  sagaFailureText,
  startSaga,
  type SagaHandle,
} from './saga-children';
import { metrics } from './metrics-sinks';
import { reads } from './sagas/activities';
import { invalidUpdate } from './update-rejection';
import { failureText, SagaFailureType } from './sagas/saga';

/** Cycles per run before continue-as-new, when the server has not suggested it earlier. */
export const DEFAULT_CYCLES_PER_RUN = 500;

const AUTOMATION_LEVELS: readonly AutomationLevel[] = ['off', 'recommend', 'auto'];

export async function clusterManagerWorkflow(input: ManagerInput): Promise<ManagerState> {
  // A run that began under the lab-only manager replays on that code, then hands over.
  if (!patched(DECISION_CORE_PATCH) && isLegacyManagerInput(input)) {
    return (await runLegacyManager(input as unknown as LegacyManagerInput)) as unknown as ManagerState;
  }
  const manager = new ClusterManager(input);
  manager.registerHandlers();
  return manager.run();
}

/**
 * Continue-as-new waits for the sagas in flight first (they are bounded by maxConcurrent), so the
 * carried state never holds a child to re-adopt.
 */
class ClusterManager {
  private readonly input: ManagerInput;
  private state: ManagerState;
  private snapshot: ClusterSnapshot | null = null;
  /** Set by updates and finished sagas that should not wait for the next cycle. */
  private wake = false;
  private observing = false;
  private childrenRunning = 0;
  private outcomes: SagaOutcome[] = [];
  private problem: string | undefined;
  private nextCycleAt = 0;

  constructor(raw: unknown) {
    let parsed: ReturnType<typeof parseManagerInput>;
    try {
      parsed = parseManagerInput(raw);
    } catch (err) {
      const message = err instanceof ManagerInputError ? err.message : String(err);
      throw ApplicationFailure.create({
        type: SagaFailureType.invalidInput,
        message: `invalid input: ${message}`,
        nonRetryable: true,
      });
    }
    this.input = parsed.input;
    const carried = this.input.carried;
    this.state = carried ?? {
      runState: 'running',
      automation: this.input.automation,
      settings: this.input.settings,
      rules: parsed.rules,
      cycle: 0,
      core: emptyCore(this.input.seed),
    };
    // A run never inherits children (see the class comment): nothing carried is still running.
    this.state.core.decisions = this.state.core.decisions.map((d) =>
      d.status === 'running' ? { ...d, status: 'expired', detail: 'the manager continued as new' } : d,
    );
  }

  /** Before the first await, so no update or query sent at start is lost. */
  registerHandlers(): void {
    setHandler(managerStatusQuery, () => this.state);
    setHandler(lastSnapshotQuery, () => this.snapshot);
    // From the node drain workflows: a drained node takes no container and no move (see step).
    setHandler(nodeDrainChangedSignal, (change) => {
      const drainedNodes = withDrainChange(this.state.settings.drainedNodes, change);
      this.state.settings = { ...this.state.settings, drainedNodes };
      this.refreshDetails();
    });
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
        const { core, approved } = approve(this.state.core, ids);
        this.state.core = core;
        this.wake = true;
        this.refreshDetails();
        return approved;
      },
      {
        validator: (ids) => {
          const problem = approvalProblem(this.state.core.decisions, ids);
          if (problem) throw invalidUpdate(problem);
        },
      },
    );
    setHandler(
      setThresholdsUpdate,
      (change) => {
        this.state.rules = { ...this.state.rules, lab: labWith(this.state.rules, change) };
        return this.state;
      },
      { validator: (change) => void labWith(this.state.rules, change) },
    );
    setHandler(
      setAutomationUpdate,
      (change) => {
        const { level, rule } = automationChange(change, this.state.rules);
        if (rule === undefined) {
          if (level !== this.state.automation && this.state.automation === 'recommend') {
            this.state.core.decisions = withRecommendationsExpired(
              this.state.core.decisions,
              `automation changed to ${level}`,
            );
          }
          this.state.automation = level;
        } else {
          this.state.rules = {
            ...this.state.rules,
            [rule]: { ...this.state.rules[rule], automation: level } as RuleBase,
          };
        }
        this.wake = true;
        this.refreshDetails();
        return this.state;
      },
      { validator: (change) => void automationChange(change, this.state.rules) },
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
      } else if (this.snapshot && (this.outcomes.length > 0 || this.hasApproved())) {
        await this.round(false);
      }
      if (this.stopping()) break;
      if (cycles >= cyclesPerRun || workflowInfo().continueAsNewSuggested) {
        await condition(() => this.childrenRunning === 0);
        await condition(allHandlersFinished);
        this.takeOutcomesWithoutRound();
        const { automation, settings } = this.state;
        await continueAsNew<typeof clusterManagerWorkflow>({
          ...this.input,
          automation,
          settings,
          rules: this.state.rules,
          carried: this.state,
        });
      }
      if (this.active()) {
        await condition(() => this.wake, Math.max(1, this.nextCycleAt - Date.now()));
      } else {
        // Paused or off: no timers at all, so an idle manager adds nothing to its history.
        await condition(() => this.wake || this.outcomes.length > 0);
      }
    }
    // Stopping: start nothing new, let the sagas in flight finish and record their outcomes.
    await condition(() => this.childrenRunning === 0);
    this.takeOutcomesWithoutRound();
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

  private hasApproved(): boolean {
    return this.active() && this.state.core.decisions.some((d) => d.status === 'approved');
  }

  /** observe → step → act. Observation is exactly one activity; nothing else reads the API. */
  private async cycle(): Promise<void> {
    const cycle = ++this.state.cycle;
    const startedAt = Date.now();
    this.observing = true;
    try {
      // The network rates come from this observation's counters against the previous one's.
      this.snapshot = withNetworkRates(snapshotOf(await reads.observeCluster()), this.snapshot);
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
    const { scope, capacityBasis } = this.state.settings;
    this.state.lastObservation = summarize(this.snapshot, scope, capacityBasis);
    // Paused (or turned off) while the observation was in flight: a paused manager acts on nothing.
    if (!this.active()) {
      this.refreshDetails();
      return;
    }
    await this.round(true);
    metrics.cycleEnded(Date.now() - startedAt);
  }

  /** One step of the round: outcomes in, commands out; `evaluate` asks the rules too. */
  private async round(evaluate: boolean): Promise<void> {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    const outcomes = this.outcomes.splice(0);
    const known = new Set(this.state.core.decisions.map((d) => d.id));
    const result = step({
      core: this.state.core,
      settings: this.state.settings,
      automation: this.active() ? this.state.automation : 'off',
      rules: this.enabledRules(),
      snapshot,
      cycle: this.state.cycle,
      evaluate,
      now: Date.now(),
      outcomes,
    });
    this.state.core = result.core;
    const made = result.core.decisions.filter((d) => !known.has(d.id));
    if (made.length > 0) {
      metrics.decisionsMade(
        made.map((d) => ({
          rule: d.rule ?? 'manager',
          automation: d.status === 'recommended' ? 'recommend' : 'auto',
        })),
      );
    }
    if (evaluate) {
      this.state.notes = result.notes;
      for (const note of result.notes) log.info(note, { cycle: this.state.cycle });
    }
    for (const command of result.commands) await this.start(command);
    this.refreshDetails();
  }

  private enabledRules(): EnabledRule[] {
    return ruleNames.flatMap((name) => {
      const config = this.state.rules[name];
      return config?.enabled ? [{ rule: ruleRegistry[name], config }] : [];
    });
  }

  /** Starts one command's saga; it then runs on its own while the cycle goes on. */
  private async start(command: Command): Promise<void> {
    const { action, decisionId } = command;
    const workflowId = containerOperationId(this.input.cluster, action.vmid);
    this.setDecision(decisionId, { workflowId });
    let handle: SagaHandle;
    try {
      handle = await this.startSagaFor(command, workflowId);
    } catch (err) {
      this.outcomes.push({
        decisionId,
        status: 'rejected',
        started: false,
        at: Date.now(),
        detail: isAlreadyStarted(err)
          ? `skipped: another operation on CT ${action.vmid} is in flight (${workflowId})`
          : `could not start: ${failureText(err)}`,
      });
      this.wake = true;
      return;
    }
    this.childrenRunning++;
    void this.follow(decisionId, handle);
  }

  private startSagaFor(command: Command, workflowId: string): Promise<SagaHandle> {
    const { action } = command;
    const { admissionShare } = this.state.settings;
    const reason = `[${command.rule}] ${action.reason}`.slice(0, 500);
    switch (action.kind) {
      case 'migrate': {
        const input: MigrateInput = { vmid: action.vmid, target: action.to, admissionShare, reason };
        return startSaga('migrateContainerWorkflow', input, workflowId);
      }
      case 'drop': {
        const input: DropInput = { vmid: action.vmid, mode: action.mode, reason };
        return startSaga('dropContainerWorkflow', input, workflowId);
      }
      case 'scale': {
        const input: ScaleInput = {
          vmid: action.vmid,
          reason,
          ...(action.cores === undefined ? {} : { cores: action.cores }),
          ...(action.memoryMiB === undefined ? {} : { memoryMiB: action.memoryMiB }),
          ...(action.swapMiB === undefined ? {} : { swapMiB: action.swapMiB }),
        };
        return startSaga('scaleContainerWorkflow', input, workflowId);
      }
    }
  }

  /** Queues the saga's outcome for the next step, which starts the container's cooldown. */
  private async follow(decisionId: string, handle: SagaHandle): Promise<void> {
    let outcome: SagaOutcome;
    try {
      const result = failIfRefused(await handle.result());
      outcome = { decisionId, status: 'succeeded', detail: result.detail, started: true, at: Date.now() };
    } catch (err) {
      outcome = { decisionId, status: 'failed', detail: sagaFailureText(err), started: true, at: Date.now() };
    }
    this.outcomes.push(outcome);
    this.childrenRunning--;
    // A freed slot may let an approved decision start before the next cycle.
    this.wake = true;
  }

  /** Records outcomes when no round will run again in this run (stop, continue-as-new). */
  private takeOutcomesWithoutRound(): void {
    if (this.outcomes.length === 0 || !this.snapshot) return;
    // Level off: nothing starts now; approved decisions wait for the next run.
    this.state.core = step({
      core: this.state.core,
      settings: this.state.settings,
      automation: 'off',
      rules: [],
      snapshot: this.snapshot,
      cycle: this.state.cycle,
      evaluate: false,
      now: Date.now(),
      outcomes: this.outcomes.splice(0),
    }).core;
  }

  private setDecision(id: string, change: { workflowId: string }): void {
    this.state.core.decisions = this.state.core.decisions.map((d) => (d.id === id ? { ...d, ...change } : d));
  }

  private refreshDetails(): void {
    setCurrentDetails(detailsLine({ ...this.state, decisions: this.state.core.decisions }, this.problem));
  }
}

/** The lab rule's config with new thresholds; throws with the field and the expected value. */
function labWith(rules: Record<string, RuleBase>, change: unknown): RuleBase {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) {
    throw invalidUpdate('thresholds: expected an object with migratePercent, dropPercent or both');
  }
  const keys = Object.keys(change);
  const unknown = keys.filter((k) => k !== 'migratePercent' && k !== 'dropPercent');
  if (unknown.length > 0) {
    throw invalidUpdate(`${unknown.join(', ')}: unknown threshold (expected migratePercent or dropPercent)`);
  }
  if (keys.length === 0) throw invalidUpdate('thresholds: expected migratePercent, dropPercent or both');
  const parsed = ruleRegistry.lab.config.safeParse({ ...rules.lab, ...change });
  if (!parsed.success) {
    throw invalidUpdate(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

function automationChange(
  change: AutomationChange,
  rules: Record<string, RuleBase>,
): { level: AutomationLevel; rule?: string } {
  const { level, rule } = typeof change === 'string' ? { level: change, rule: undefined } : (change ?? {});
  if (!AUTOMATION_LEVELS.includes(level as AutomationLevel)) {
    throw invalidUpdate(
      `automation: expected one of ${AUTOMATION_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
  if (rule !== undefined && !(rule in rules)) {
    throw invalidUpdate(
      `rule: expected one of ${Object.keys(rules).join(', ')}, got ${JSON.stringify(rule)}`,
    );
  }
  return { level: level as AutomationLevel, ...(rule === undefined ? {} : { rule }) };
}
