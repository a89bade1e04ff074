import { describe, expect, it } from 'vitest';
import { parseConfig, proxmoxConnectionOf } from '../../../src/config';
import { pveConnectionSchema } from '../../../src/proxmox';

const SECRET = '12345678-1234-1234-1234-1234567890ab';

describe('the proxmox section', () => {
  it('is complete once host and token come from the environment', () => {
    const config = parseConfig('', {
      PROXMOX_HOST: 'pve1',
      PROXMOX_TOKEN_ID: 'root@pam!ap',
      PROXMOX_TOKEN_SECRET: SECRET,
    });
    expect(proxmoxConnectionOf(config)).toEqual({
      host: 'pve1',
      port: 8006,
      schema: 'https',
      tokenId: 'root@pam!ap',
      tokenSecret: SECRET,
      timeoutMs: 15000,
    });
  });

  it('passes through the Proxmox client schema as it is', () => {
    const config = parseConfig(`proxmox: { host: pve1, fingerprint: "${'AB:'.repeat(31)}AB" }\n`, {
      PROXMOX_USER: 'root',
      PROXMOX_PASSWORD: 'pw',
      PROXMOX_REALM: 'pam',
    });
    const connection = pveConnectionSchema.parse(proxmoxConnectionOf(config));
    expect(connection).toMatchObject({ host: 'pve1', auth: { kind: 'password', username: 'root@pam' } });
  });

  it('names what is missing when a Proxmox client is about to be built without host or credentials', () => {
    expect(() => proxmoxConnectionOf(parseConfig('', {}))).toThrow(
      'config error: proxmox.host: expected a host name or IP address (or PROXMOX_HOST), got nothing\n' +
        'config error: proxmox.tokenId: expected credentials: tokenId+tokenSecret (or PROXMOX_TOKEN_ID/PROXMOX_TOKEN_SECRET) ' +
        'or username+password (or PROXMOX_USER/PROXMOX_PASSWORD), got nothing',
    );
  });
});
