import { describe, expect, it } from 'vitest';
import { ENV_OVERRIDES, parseConfig, type Config } from '../../../src/config';

const SECRET = '12345678-1234-1234-1234-1234567890ab';

const fileWithConnections = `
temporal:
  address: temporal.file:7233
  namespace: from-file
proxmox:
  host: pve-file
  port: 8006
`;

describe('environment overrides', () => {
  it.each<[string, string, (c: Config) => unknown, unknown]>([
    ['PROXMOX_HOST', 'pve-env', (c) => c.proxmox.host, 'pve-env'],
    ['PROXMOX_PORT', '18006', (c) => c.proxmox.port, 18006],
    ['PROXMOX_CA_FILE', '/etc/ca.pem', (c) => c.proxmox.caFile, '/etc/ca.pem'],
    ['PROXMOX_FINGERPRINT', 'ab'.repeat(32), (c) => c.proxmox.fingerprint, 'ab'.repeat(32)],
    ['PROXMOX_TIMEOUT_MS', '2000', (c) => c.proxmox.timeoutMs, 2000],
    ['TEMPORAL_ADDRESS', 'temporal.env:7233', (c) => c.temporal.address, 'temporal.env:7233'],
    ['TEMPORAL_NAMESPACE', 'from-env', (c) => c.temporal.namespace, 'from-env'],
    ['TEMPORAL_TASK_QUEUE', 'q-env', (c) => c.temporal.taskQueue, 'q-env'],
    ['TEMPORAL_API_KEY', 'key-env', (c) => c.temporal.apiKey, 'key-env'],
    ['TEMPORAL_TLS_CA', '/ca.pem', (c) => c.temporal.tls?.caFile, '/ca.pem'],
    ['TEMPORAL_TLS_SERVER_NAME', 'tmprl', (c) => c.temporal.tls?.serverName, 'tmprl'],
  ])('%s=%s wins over the file', (variable, value, read, expected) => {
    expect(read(parseConfig(fileWithConnections, { [variable]: value }))).toEqual(expected);
  });

  // http is for a loopback host only (a TLS-terminating proxy), so the host comes along.
  it('PROXMOX_SCHEMA=http wins over the file, for a loopback host', () => {
    const env = { PROXMOX_SCHEMA: 'http', PROXMOX_HOST: '127.0.0.1' };
    expect(parseConfig(fileWithConnections, env).proxmox.schema).toBe('http');
  });

  it('sets token credentials from PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET', () => {
    const config = parseConfig('', { PROXMOX_TOKEN_ID: 'root@pam!ap', PROXMOX_TOKEN_SECRET: SECRET });
    expect(config.proxmox).toMatchObject({ tokenId: 'root@pam!ap', tokenSecret: SECRET });
  });

  it('sets password credentials from PROXMOX_USER, PROXMOX_PASSWORD and PROXMOX_REALM', () => {
    const config = parseConfig('', {
      PROXMOX_USER: 'autopilot',
      PROXMOX_PASSWORD: 'pw',
      PROXMOX_REALM: 'pve',
    });
    expect(config.proxmox).toMatchObject({ username: 'autopilot', password: 'pw', realm: 'pve' });
  });

  it('sets the mTLS client pair from TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY', () => {
    const config = parseConfig('', { TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem' });
    expect(config.temporal.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('replaces password credentials of the file when the environment brings a token', () => {
    const file = 'proxmox:\n  username: root@pam\n  password: from-file\n  realm: pam\n';
    const config = parseConfig(file, { PROXMOX_TOKEN_ID: 'root@pam!ap', PROXMOX_TOKEN_SECRET: SECRET });
    expect(config.proxmox.username).toBeUndefined();
    expect(config.proxmox.password).toBeUndefined();
    expect(config.proxmox.realm).toBeUndefined();
    expect(config.proxmox.tokenId).toBe('root@pam!ap');
  });

  it('replaces a token of the file when the environment brings a user and password', () => {
    const file = `proxmox:\n  tokenId: root@pam!ap\n  tokenSecret: ${SECRET}\n`;
    const config = parseConfig(file, { PROXMOX_USER: 'root@pam', PROXMOX_PASSWORD: 'pw' });
    expect(config.proxmox).toMatchObject({ username: 'root@pam', password: 'pw' });
    expect(config.proxmox.tokenId).toBeUndefined();
    expect(config.proxmox.tokenSecret).toBeUndefined();
  });

  it('ignores empty variables, as an unset one', () => {
    expect(parseConfig(fileWithConnections, { PROXMOX_HOST: '', TEMPORAL_NAMESPACE: '' })).toMatchObject({
      proxmox: { host: 'pve-file' },
      temporal: { namespace: 'from-file' },
    });
  });

  it('leaves settings other than connections and secrets to the file', () => {
    expect(ENV_OVERRIDES.every((o) => o.path[0] === 'proxmox' || o.path[0] === 'temporal')).toBe(true);
    expect(
      parseConfig('manager: { cycleSeconds: 3 }\n', { PVE_AUTOPILOT_CYCLE: '9' }).manager.cycleSeconds,
    ).toBe(3);
  });

  it('names the variable when its value is invalid', () => {
    expect(() => parseConfig('', { PROXMOX_PORT: '80a' })).toThrow(
      'config error: proxmox.port (from PROXMOX_PORT): expected an integer between 1 and 65535, got "80a"',
    );
    expect(() => parseConfig('', { TEMPORAL_ADDRESS: 'nohost' })).toThrow(
      'config error: temporal.address (from TEMPORAL_ADDRESS): expected HOST:PORT, e.g. 127.0.0.1:7233, got "nohost"',
    );
  });

  it('never echoes a secret from the environment that it rejects', () => {
    const leaked = 'not-a-uuid-but-secret';
    let message = '';
    try {
      parseConfig('', { PROXMOX_TOKEN_ID: 'root@pam!ap', PROXMOX_TOKEN_SECRET: leaked });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('proxmox.tokenSecret (from PROXMOX_TOKEN_SECRET)');
    expect(message).not.toContain(leaked);
  });

  it('does not change the parsed file it overrides', () => {
    const config = parseConfig(fileWithConnections, {});
    parseConfig(fileWithConnections, { PROXMOX_HOST: 'other' });
    expect(parseConfig(fileWithConnections, {})).toEqual(config);
  });
});
