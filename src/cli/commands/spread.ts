// `pve-autopilot spread check`: the cron interface of the distributor it replaces. One observation,
// the spread plan of every group, and one line per pool with members to migrate; exit 78
// (EX_CONFIG in sysexits) when there is one, so cron mails the operator, and silence and 0 otherwise.
import { ConfigError, coreSettingsOf } from '../../config';
import { zoneIndex, zoneProblems, isManaged, type ClusterSnapshot } from '../../domain';
import { toClusterSnapshot } from '../../proxmox';
import { describeGroup, planSpread, projectCluster, spreadGroupsOf, type SpreadReport } from '../../policy';
import type { Command } from '../args';
import { observe } from '../cluster';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson } from '../output';

/** sysexits' EX_CONFIG, what the distributor exits with when pools need moves. */
export const EXIT_MEMBERS_TO_MIGRATE = 78;

type SpreadCheck = Extract<Command, { name: 'spread' }>;

export async function spreadCheckCommand(ctx: Context, command: SpreadCheck): Promise<number> {
  const snapshot = toClusterSnapshot(await observe(ctx), Date.now());
  checkZones(ctx, snapshot);
  const excludePools = [...new Set([...ctx.config.spread.excludePools, ...command.excludePools])];
  const reports = spreadReports(ctx, snapshot, excludePools);
  const bad = reports.filter((r) => !r.wellSpread);
  const code = bad.length > 0 ? EXIT_MEMBERS_TO_MIGRATE : ExitCode.ok;
  if (ctx.global.json) {
    printJson(ctx.io, {
      cluster: ctx.cluster,
      excludePools,
      groups: reports,
      badlySpread: bad.map((r) => ({ kind: r.kind, name: r.name })),
      exitCode: code,
    });
    return code;
  }
  for (const r of bad)
    line(ctx.io.stdout, `${describeGroup(r, ctx.config.spread.tagPrefix)} has members to migrate`);
  return code;
}

/** A zone naming a node the cluster lacks is a config error (exit 2), named where it is. */
export function checkZones(ctx: Context, snapshot: ClusterSnapshot): void {
  const { errors } = zoneProblems(
    ctx.config.zones,
    snapshot.nodes.map((n) => n.name),
  );
  if (errors.length > 0) throw new ConfigError(errors);
}

/** The plan as the spread rule makes it, with every managed, unlocked container on an online node movable. */
export function spreadReports(
  ctx: Context,
  snapshot: ClusterSnapshot,
  excludePools: readonly string[],
): SpreadReport[] {
  const settings = coreSettingsOf(ctx.config);
  const cluster = projectCluster(snapshot, settings, []);
  return planSpread({
    snapshot,
    cluster,
    zones: zoneIndex(ctx.config.zones),
    groups: spreadGroupsOf(snapshot.containers, { excludePools, tagPrefix: ctx.config.spread.tagPrefix }),
    movable: (ct) =>
      isManaged(ct, settings.scope) &&
      (ct.lock === undefined || ct.lock === '') &&
      cluster.nodes.get(ct.node)?.online === true,
  });
}
