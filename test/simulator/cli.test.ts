// `npm run sim` (simulator/main.ts): prints URL, token, fingerprint and CA file; curl with that token
// lists the nodes; unknown scenarios and arguments are rejected with a message naming them.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_DATA_DIR } from './support/client.js';

const run = promisify(execFile);
const MAIN = ['--import', 'tsx', 'simulator/main.ts'];

describe('npm run sim', () => {
  it('prints its URL, an API token and the certificate fingerprint; curl with the token lists the nodes', async () => {
    const child = spawn(
      process.execPath,
      [...MAIN, '--scenario', 'lab-2node', '--port', '0', '--data-dir', TEST_DATA_DIR],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('curl ')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect(banner).toMatch(/URL\s+https:\/\/127\.0\.0\.1:\d+\/api2\/json/);
      expect(banner).toMatch(
        /API token\s+PVEAPIToken=root@pam!autopilot=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
      );
      expect(banner).toMatch(/fingerprint\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      expect(banner).toMatch(/CA file\s+\S+pve-root-ca\.pem/);
      const curl = /curl (.*)$/m.exec(banner)![1]!;
      // The printed line is meant for a shell; split it the same way (one quoted header).
      const args = curl.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, ''));
      const { stdout } = await run('curl', ['-s', ...args]);
      const nodes = (JSON.parse(stdout) as { data: Array<{ node: string; status: string }> }).data;
      expect(nodes.map((n) => n.node)).toEqual(['srv-px1', 'srv-px2']);
      // The same token is left in the data dir for clients in other processes, owner-readable only.
      const tokenFile = join(TEST_DATA_DIR, 'api-token');
      const printed = /API token\s+(\S+)/.exec(banner)![1];
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(printed);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('rejects an unknown scenario with the list of known ones', async () => {
    const err = await run(process.execPath, [...MAIN, '--scenario', 'lab-3node']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain(
      "unknown scenario 'lab-3node' (expected one of: lab-2node, lab-2node-autoscale, zones-6node, fleet-large)",
    );
  });

  it('rejects an unknown argument', async () => {
    const err = await run(process.execPath, [...MAIN, '--scenario', 'lab-2node', '--speeed', '5']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("Unknown option '--speeed'");
  });
});
