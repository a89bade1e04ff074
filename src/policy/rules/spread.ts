// The spread rule: every pool (and every `spread-` tag) is a group whose members should run on as
// many zones, then nodes, as the cluster's room allows. It proposes the spread plan's migrations;
// at `recommend` by default, because operators of the distributor it replaces approve such moves.
// Strict affinity rules veto moves through the projection's admission (settings.affinity).

import { z } from 'zod';
import { matching, nonEmptyText } from '../../config/fields';
import { zoneIndex, zoneProblems } from '../../domain';
import { projectCluster } from '../projected-cluster';
import { ruleSection } from '../rule-config';
import type { Rule } from '../rule';
import { migrateAction, planSpread, spreadGroupsOf, spreadReason } from '../spread';

export const spreadConfigSchema = ruleSection(
  {
    /** Pools that are not spread groups (the distributor's EXCLUDE_POOLS_NAMES). */
    excludePools: z.array(nonEmptyText('a pool id'), { error: 'expected a list of pool ids' }).default([]),
    /** A tag `<tagPrefix><name>` makes a group `name`; '' turns tag groups off. */
    tagPrefix: z
      .union([z.literal(''), matching(/^[a-z0-9_][a-z0-9_+.-]*$/i, 'a tag prefix')])
      .default('spread-'),
  },
  // Off by default like autoscale, so the lab's manager is unchanged; once enabled it recommends.
  { enabled: false, automation: 'recommend', priority: 70 },
);

export type SpreadConfig = z.output<typeof spreadConfigSchema>;

export const spreadRule: Rule<SpreadConfig, null> = {
  name: 'spread',
  config: spreadConfigSchema,
  initialState: () => null,
  evaluate(view, config) {
    const { snapshot, settings } = view;
    const notes = zoneProblems(
      settings.zones,
      snapshot.nodes.map((n) => n.name),
    ).errors.map((e) => `spread: config error: ${e.path}: ${e.message}`);
    const actionable = new Set(view.actionable.map((ct) => ct.vmid));
    const reports = planSpread({
      snapshot,
      // Its own projection: step admits the proposals again against the round's shared one.
      cluster: projectCluster(snapshot, settings, view.inFlight),
      zones: zoneIndex(settings.zones),
      groups: spreadGroupsOf(snapshot.containers, config),
      inFlight: view.inFlight,
      movable: (ct) => actionable.has(ct.vmid),
    });
    const proposals = reports.flatMap((report) =>
      report.moves.map((move) => ({
        action: migrateAction(move, spreadReason(report, move, config.tagPrefix)),
      })),
    );
    return { proposals, state: null, notes };
  },
};
