import { describe, expect, it } from 'vitest';
import { parseConfig, redactConfig } from '../../../src/config';

const SECRET = '12345678-1234-1234-1234-1234567890ab';

describe('redacted config', () => {
  const withToken = parseConfig('proxmox: { host: pve1, tokenId: "root@pam!ap" }\n', {
    PROXMOX_TOKEN_SECRET: SECRET,
    TEMPORAL_API_KEY: 'temporal-key-value',
  });

  it('replaces every secret by ***', () => {
    const redacted = redactConfig(withToken);
    expect(redacted.proxmox.tokenSecret).toBe('***');
    expect(redacted.temporal.apiKey).toBe('***');
    const printed = JSON.stringify(redacted);
    expect(printed).not.toContain(SECRET);
    expect(printed).not.toContain('temporal-key-value');
  });

  it('masks a password the same way', () => {
    const withPassword = parseConfig('', { PROXMOX_USER: 'root@pam', PROXMOX_PASSWORD: 'hunter2' });
    expect(redactConfig(withPassword).proxmox).toMatchObject({ username: 'root@pam', password: '***' });
  });

  it('keeps everything else, and leaves unset secrets unset', () => {
    const redacted = redactConfig(withToken);
    expect({
      ...redacted,
      proxmox: { ...redacted.proxmox, tokenSecret: SECRET },
      temporal: withToken.temporal,
    }).toEqual(withToken);
    expect('password' in redactConfig(withToken).proxmox).toBe(false);
  });

  it('does not modify the config it is given', () => {
    redactConfig(withToken);
    expect(withToken.proxmox.tokenSecret).toBe(SECRET);
  });
});
