// `pve-autopilot spread check`: the cron interface of the distributor it replaces. One observation,
// the spread plan of every group, and one line per pool with members to migrate; exit 78
// (EX_CONFIG in sysexits) when there is one, so cron mails the operator, and silence and 0 otherwise.
import { ConfigError, spreadReportsOf } from '../../config';
import { zoneProblems, type ClusterSnapshot } from '../../domain';
import { toClusterSnapshot } from '../../proxmox';
import { describeGroup } from '../../policy';
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
  const reports = spreadReportsOf(ctx.config, snapshot, excludePools);
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
