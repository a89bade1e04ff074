// Fidelity with a second, independent client: Debian's python3-proxmoxer drives pve-sim through
// ticket and token login, listing, the read methods tools call and a container's life cycle (the
// Python script beside this file asserts each step). Needs `apt-get install python3-proxmoxer`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../../simulator/index.js';
import { zones6node } from '../../../simulator/scenarios/zones-6node.js';
import { TEST_DATA_DIR } from '../support/client.js';

const SCRIPT = fileURLToPath(new URL('./proxmoxer_client.py', import.meta.url));
// Debian's python3-proxmoxer is installed for the system interpreter, not for a pyenv or venv one.
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function runPython(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('python3-proxmoxer against pve-sim', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    // Fast realtime clock: the script polls tasks as it would on a real node.
    sim = await startSimulator({
      scenario: 'zones-6node',
      port: 0,
      clock: { mode: 'realtime', speed: 50 },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
  });
  afterAll(async () => sim.stop());

  it('logs in, lists, reads what tools read and runs a container life cycle', async () => {
    const ro = zones6node(1).tokens.find((t) => t.id === 'root@pam!readonly')!;
    const run = await runPython({
      PVE_HOST: sim.host,
      PVE_PORT: String(sim.port),
      PVE_CA_FILE: sim.caFile,
      PVE_TOKEN_ID: sim.token.id,
      PVE_TOKEN_SECRET: sim.token.secret,
      PVE_RO_TOKEN_ID: ro.id,
      PVE_RO_TOKEN_SECRET: ro.secret,
      PVE_ROOT_PASSWORD: sim.user.password,
    });
    if (/No module named 'proxmoxer'/.test(run.stderr))
      throw new Error(`${PYTHON} has no proxmoxer: apt-get install -y python3-proxmoxer (or set PYTHON)`);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(report.failed, run.stderr).toBeUndefined();
    expect([run.code, report.ok], run.stderr).toEqual([0, true]);
    expect(report['qemu ids']).toEqual(['qemu/400', 'qemu/401', 'qemu/402']);
    for (const step of [
      'ticket login',
      'a bare user name is refused',
      'read-only permissions',
      'ha status',
      'qemu rrddata',
      'net0 stored as PVE stores it',
      'migrate',
      'gone',
    ])
      expect([step, report[step]]).toEqual([step, true]);
  });
});
