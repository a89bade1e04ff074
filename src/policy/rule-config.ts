// The config section every rule has: its own settings plus `enabled`, `automation` and `priority`,
// with the defaults the rule chooses. Built with the config's field schemas, so a rule's errors
// read like every other config error.

import type { z } from 'zod';
import { flag, integerBetween, oneOf, section } from '../config/fields';
import type { AutomationLevel } from '../domain';

export interface RuleDefaults {
  enabled: boolean;
  automation: AutomationLevel;
  /** Higher goes first, e.g. emergencies 100, maintenance 90, hard rules 80, spreading 70,
   * balancing 60, autoscaling 50, the lab rules 40. Affinity repair is 90, the highest below emergencies. */
  priority: number;
}

export function ruleSection<T extends z.core.$ZodLooseShape>(shape: T, defaults: RuleDefaults) {
  return section({
    enabled: flag().default(defaults.enabled),
    automation: oneOf(['off', 'recommend', 'auto']).default(defaults.automation),
    priority: integerBetween(0, 1000).default(defaults.priority),
    ...shape,
  });
}
