// The Proxmox section, checked complete where a Proxmox client is about to be built: the loader
// lets host and credentials be absent because commands that only talk to Temporal need neither.

import { ConfigError, type ConfigProblem } from './errors';
import type { Config, ProxmoxSection } from './schema';

export type CompleteProxmoxSection = ProxmoxSection & { host: string };

export function proxmoxConnectionOf(config: Config): CompleteProxmoxSection {
  const p = config.proxmox;
  const problems: ConfigProblem[] = [];
  if (p.host === undefined) {
    problems.push({
      path: 'proxmox.host',
      message: 'expected a host name or IP address (or PROXMOX_HOST), got nothing',
    });
  }
  const token = p.tokenId !== undefined && p.tokenSecret !== undefined;
  const password = p.username !== undefined && p.password !== undefined;
  if (!token && !password) {
    problems.push({
      path: 'proxmox.tokenId',
      message:
        'expected credentials: tokenId+tokenSecret (or PROXMOX_TOKEN_ID/PROXMOX_TOKEN_SECRET) ' +
        'or username+password (or PROXMOX_USER/PROXMOX_PASSWORD), got nothing',
    });
  }
  if (problems.length > 0 || p.host === undefined) throw new ConfigError(problems);
  return { ...p, host: p.host };
}
