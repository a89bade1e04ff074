// Every rule the manager can run, in the order that breaks ties between equal priorities. Adding a
// rule is one line here, plus its own file and its config section (built in that file).

import type { AnyRule } from '../rule';
import { affinityRule } from './affinity';
import { autoscaleRule } from './autoscale';
import { balanceRule } from './balance';
import { labRule } from './lab';
import { spreadRule } from './spread';

export const ruleRegistry = {
  lab: labRule,
  autoscale: autoscaleRule,
  affinity: affinityRule,
  spread: spreadRule,
  balance: balanceRule,
} as const satisfies Record<string, AnyRule>;

export type RuleName = keyof typeof ruleRegistry;

export const ruleNames = Object.keys(ruleRegistry) as RuleName[];
