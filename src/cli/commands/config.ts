// `pve-autopilot config validate`: the effective config (file, environment, defaults) with secrets
// masked, and what is still missing for the commands that talk to Proxmox. Errors are main's job.
// With --online it also reads the cluster once, for the checks that need it (the node names of zones
// and pin rules).
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { ConfigError, locateConfig, proxmoxConnectionOf, redactConfig } from '../../config';
import { zoneProblems } from '../../domain';
import { pinProblems } from '../../policy';
import { toClusterSnapshot } from '../../proxmox';
import type { Command } from '../args';
import { observe } from '../cluster';
import type { Context } from '../context';
import { ExitCode } from '../exit-codes';
import { line, printJson } from '../output';

export async function configValidateCommand(
  ctx: Context,
  command: Extract<Command, { name: 'config' }>,
): Promise<number> {
  const location = locateConfig({
    ...(ctx.global.config === undefined ? {} : { path: ctx.global.config }),
    env: ctx.io.env,
  });
  const source = existsSync(location.path) ? location.path : null;
  const notes: string[] = [];
  try {
    proxmoxConnectionOf(ctx.config);
  } catch (err) {
    // Valid as a file: commands that only talk to Temporal run without a Proxmox host.
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      notes.push(`${p.path}: ${p.message} (needed by the worker, status and the container commands)`);
    }
  }
  const warnings: string[] = [];
  if (command.online) {
    const snapshot = toClusterSnapshot(await observe(ctx), Date.now());
    const nodes = snapshot.nodes.map((n) => n.name);
    const zones = zoneProblems(ctx.config.zones, nodes);
    const errors = [...zones.errors, ...pinProblems(ctx.config.affinity.rules, nodes)];
    if (errors.length > 0) throw new ConfigError(errors);
    warnings.push(...zones.warnings.map((w) => `zones: ${w}`));
  }
  const config = redactConfig(ctx.config);
  if (ctx.global.json) {
    printJson(ctx.io, { valid: true, source, config, notes, ...(command.online ? { warnings } : {}) });
    return ExitCode.ok;
  }
  const out = ctx.io.stdout;
  line(
    out,
    `# Config is valid. Source: ${source ?? `no file at ${location.path}; defaults and environment`}`,
  );
  for (const note of notes) line(out, `# note: ${note}`);
  for (const warning of warnings) line(out, `# warning: ${warning}`);
  out.write(stringify(config));
  return ExitCode.ok;
}
