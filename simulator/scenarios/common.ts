// Pieces shared by the scenarios: storages, templates and the usual users and tokens.
import { Rng } from '../rng.js';
import type { StorageSpec, TemplateSpec, TokenSpec, UserSpec } from './types.js';

export const DEFAULT_EPOCH = 1767258000; // 2026-01-01 09:00 UTC

export const DEBIAN_12 = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
export const DEBIAN_13 = 'local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst';

export function localStorages(rootGiB: number, lvmGiB: number): StorageSpec[] {
  return [
    { id: 'local', type: 'dir', content: ['backup', 'iso', 'vztmpl'], shared: false, totalGiB: rootGiB },
    { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], shared: false, totalGiB: lvmGiB },
  ];
}

export const TEMPLATES: TemplateSpec[] = [
  { storage: 'local', file: 'debian-12-standard_12.7-1_amd64.tar.zst', sizeMiB: 120 },
  { storage: 'local', file: 'debian-13-standard_13.1-2_amd64.tar.zst', sizeMiB: 128 },
  { storage: 'local', file: 'alpine-3.22-default_20250617_amd64.tar.xz', sizeMiB: 3 },
];

/**
 * root@pam with a password, a full-access token for the orchestrator, a read-only one, and the
 * auditor's privilege-separated token whose Administrator role is cut down to the auditor's rights.
 */
export function standardAccess(
  seed: number,
  rootPassword: string,
): { users: UserSpec[]; tokens: TokenSpec[] } {
  // Secrets come from the seed so a scenario prints the same token every time.
  const rng = new Rng(seed ^ 0x70c3);
  return {
    users: [
      { userid: 'root@pam', password: rootPassword, role: 'Administrator' },
      { userid: 'auditor@pve', password: 'auditor-pass', role: 'PVEAuditor' },
    ],
    tokens: [
      { id: 'root@pam!autopilot', secret: rng.uuid(), role: 'Administrator' },
      { id: 'root@pam!readonly', secret: rng.uuid(), role: 'PVEAuditor' },
      { id: 'auditor@pve!monitor', secret: rng.uuid(), role: 'Administrator', privsep: true },
    ],
  };
}
