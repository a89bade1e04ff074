// The `balance:` config section: how node load is scored (weights of CPU, memory and root disk),
// when the rule acts (imbalance above `threshold` for `holdRounds` cycles) and until when (down to
// `target`), what a move must gain (`margin`), and how long a moved container stays put.
// Off by default, so the lab's defaults are unchanged.

import type { z } from 'zod';
import { integerBetween, numberBetween, reject, section, whenFieldsValid } from '../../config/fields';
import { ruleSection } from '../rule-config';

const DAY_SECONDS = 86_400;

export const balanceConfigSchema = ruleSection(
  {
    /** Node load = cpu × CPU % + memory × used-memory % + disk × root-disk %, over the weights' sum. */
    weights: section({
      cpu: numberBetween(0, 100).default(1),
      memory: numberBetween(0, 100).default(1),
      disk: numberBetween(0, 100).default(0),
    }).prefault({}),
    /** The imbalance (coefficient of variation of node load) above which the rule acts. */
    threshold: numberBetween(0, 10).default(0.3),
    /** Once acting, it moves containers until the imbalance is at or below this. */
    target: numberBetween(0, 10).default(0.15),
    /** Cycles in a row the imbalance must stay above `threshold` before the first move. */
    holdRounds: integerBetween(1, 100).default(3),
    /** Each move must cut the imbalance by at least this much (an absolute amount of CV). */
    margin: numberBetween(0, 10).default(0.005),
    /** A container the rule moved is not moved again (in particular not back) for this long. */
    cooldownSeconds: numberBetween(0, 7 * DAY_SECONDS).default(3600),
    /** Moves proposed in one round, at most (the manager's budgets bound them too). */
    maxMovesPerRound: integerBetween(1, 64).default(8),
    /**
     * How far the plan runs ahead of the cluster: migrations in flight, and the rule's proposed and
     * waiting for a free slot, at most. Further ahead, moves from the plan's tail start while the hottest
     * nodes wait for their slots: more moves to the same imbalance.
     */
    maxMovesAhead: integerBetween(1, 64).default(16),
  },
  { enabled: false, automation: 'auto', priority: 60 },
).superRefine((t, ctx) => {
  if (t.target > t.threshold) {
    reject(ctx, 'target', `expected a number between 0 and balance.threshold (${t.threshold})`, t.target);
  }
  if (t.weights.cpu + t.weights.memory + t.weights.disk <= 0) {
    reject(ctx, 'weights', 'expected at least one weight greater than 0', t.weights);
  }
}, whenFieldsValid);

export type BalanceConfig = z.output<typeof balanceConfigSchema>;
