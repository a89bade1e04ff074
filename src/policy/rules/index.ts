// The rules the manager runs, in order. Later rules (autoscaling, balancing, zone spreading) are
// added to this list; decide needs no change for them.

import type { Rule } from './context';
import { dropRule } from './drop';
import { migrateRule } from './migrate';

export type { ManagerPolicy, MigrateChoice, Rule, RuleContext } from './context';
export { dropRule } from './drop';
export { migrateRule } from './migrate';

/** Drop first: when every node is over the drop threshold no migration target exists anyway. */
export const labRules: readonly Rule[] = [dropRule, migrateRule];
