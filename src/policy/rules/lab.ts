// The INSA lab's rules as one plugin: when every node passes dropPercent each drops its oldest
// managed container; otherwise a node over migratePercent sends one container to a node under it.

import type { z } from 'zod';
import { numberBetween, oneOf, reject, whenFieldsValid } from '../../config/fields';
import { ruleSection } from '../rule-config';
import type { Rule } from '../rule';
import type { RuleContext } from './context';
import { dropRule } from './drop';
import { migrateRule } from './migrate';

export const labConfigSchema = ruleSection(
  {
    /** A node passing this percent of its memory in managed containers sheds one to a node under it. */
    migratePercent: numberBetween(0, 100).default(8),
    /** When every node passes this percent, each drops its oldest managed container. */
    dropPercent: numberBetween(0, 100).default(12),
    migrateChoice: oneOf(['random', 'best-fit']).default('best-fit'),
    dropMode: oneOf(['stop', 'destroy']).default('destroy'),
  },
  { enabled: true, automation: 'auto', priority: 40 },
).superRefine((t, ctx) => {
  // Dropping before migrating has had its chance is a typo (1.2 for 12), not a policy.
  if (t.dropPercent < t.migratePercent) {
    const expected = `expected a number between lab.migratePercent (${t.migratePercent}) and 100`;
    reject(ctx, 'dropPercent', expected, t.dropPercent);
  }
}, whenFieldsValid);

export type LabConfig = z.output<typeof labConfigSchema>;

export const labRule: Rule<LabConfig, null> = {
  name: 'lab',
  config: labConfigSchema,
  initialState: () => null,
  evaluate(view, config) {
    const notes: string[] = [];
    const ctx: RuleContext = {
      policy: {
        capacityBasis: view.settings.capacityBasis,
        admissionShare: view.settings.admissionShare,
        migratePercent: config.migratePercent,
        dropPercent: config.dropPercent,
        migrateChoice: config.migrateChoice,
        dropMode: config.dropMode,
      },
      loads: view.loads,
      actionable: view.actionable,
      random: view.random,
      note: (text) => notes.push(text),
    };
    // Drop first: when every node is over the drop threshold no migration target exists anyway.
    const actions = [...dropRule(ctx), ...migrateRule(ctx)];
    return { proposals: actions.map((action) => ({ action })), state: null, notes };
  },
};
