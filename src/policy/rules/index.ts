// The rules the manager runs, in order. Later rules (autoscaling, balancing, zone spreading) are
// added to this list; decide needs no change for them.

import type { LabRule } from './context';
import { dropRule } from './drop';
import { migrateRule } from './migrate';

export type { ManagerPolicy, MigrateChoice, LabRule, RuleContext } from './context';
export { dropRule } from './drop';
export { migrateRule } from './migrate';

/** Drop first: when every node is over the drop threshold no migration target exists anyway. */
export const labRules: readonly LabRule[] = [dropRule, migrateRule];
export { labRule, labConfigSchema, type LabConfig } from './lab';
export { ruleRegistry, ruleNames, type RuleName } from './registry';
export {
  autoscaleRule,
  assessAutoscale,
  effectiveSettings,
  EMERGENCY_PRIORITY,
  type AutoscaleReport,
  type Assessment,
} from './autoscale';
export { autoscaleConfigSchema, type AutoscaleConfig, type AutoscaleOverride } from './autoscale-config';
export { emptyAutoscaleState, withSamples, type AutoscaleState, type WindowEntry } from './autoscale-window';
export { affinityRule, affinityConfigSchema, AFFINITY_PRIORITY, type AffinityConfig } from './affinity';
export { spreadRule, spreadConfigSchema, type SpreadConfig } from './spread';
export {
  balanceRule,
  planBalance,
  balanceConfigSchema,
  emptyBalanceState,
  type BalanceConfig,
  type BalanceMove,
  type BalancePlan,
  type BalanceState,
} from './balance';
