import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, locateConfig } from '../../../src/config';

const dir = mkdtempSync(join(tmpdir(), 'pve-autopilot-config-'));
const empty = mkdtempSync(join(tmpdir(), 'pve-autopilot-empty-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loading the config file', () => {
  it('uses the defaults when ./pve-autopilot.yaml does not exist and no path was given', async () => {
    await expect(loadConfig({ env: {}, cwd: empty })).resolves.toEqual(defaultConfig());
  });

  it('reads ./pve-autopilot.yaml from the working directory when it exists', async () => {
    write('pve-autopilot.yaml', 'manager: { cycleSeconds: 30 }\n');
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.manager.cycleSeconds).toBe(30);
  });

  it('reads the file named by --config, relative to the working directory', async () => {
    write('custom.yaml', 'scope: { vmidMin: 2000, vmidMax: 2099 }\n');
    const config = await loadConfig({ path: 'custom.yaml', env: {}, cwd: dir });
    expect(config.scope).toEqual({ vmidMin: 2000, vmidMax: 2099 });
  });

  it('reads the file named by PVE_AUTOPILOT_CONFIG when no --config is given', async () => {
    const path = write('from-env.yaml', 'manager: { automation: recommend }\n');
    const config = await loadConfig({ env: { PVE_AUTOPILOT_CONFIG: path }, cwd: empty });
    expect(config.manager.automation).toBe('recommend');
  });

  it('prefers --config over PVE_AUTOPILOT_CONFIG', () => {
    expect(locateConfig({ path: '/a.yaml', env: { PVE_AUTOPILOT_CONFIG: '/b.yaml' }, cwd: '/' })).toEqual({
      path: '/a.yaml',
      explicit: true,
      from: 'argument',
    });
  });

  it('fails when the file named by --config does not exist', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadConfig({ path: missing, env: {} })).rejects.toThrow(
      new ConfigError([{ path: '', message: `config file ${missing}: no such file` }]),
    );
  });

  it('fails when the file named by PVE_AUTOPILOT_CONFIG does not exist, and says where the name came from', async () => {
    const missing = join(dir, 'gone.yaml');
    await expect(loadConfig({ env: { PVE_AUTOPILOT_CONFIG: missing } })).rejects.toThrow(
      `config error: config file ${missing} (from PVE_AUTOPILOT_CONFIG): no such file`,
    );
  });

  it('fails when the path is a directory', async () => {
    await expect(loadConfig({ path: dir, env: {} })).rejects.toThrow(/cannot read it \(EISDIR\)/);
  });

  it('names the file in a YAML syntax error', async () => {
    const path = write('broken.yaml', 'manager: [\n');
    await expect(loadConfig({ path, env: {} })).rejects.toThrow(`config error: ${path}: invalid YAML:`);
  });

  it('applies environment overrides to the file it read', async () => {
    const path = write('with-host.yaml', 'proxmox: { host: pve-file }\n');
    const config = await loadConfig({ path, env: { PROXMOX_HOST: 'pve-env' } });
    expect(config.proxmox.host).toBe('pve-env');
  });
});
