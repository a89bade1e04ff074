// First-contact frictions in the config: each was seen by a new user and each test
// failed on the code before its fix.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config';

const SECRET = '12345678-1234-1234-1234-1234567890ab';

function problemOf(yaml: string): string {
  try {
    parseConfig(yaml, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('config frictions', () => {
  it('a YAML alias bomb is a config error naming the cause, not an unexpected error', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      '',
    ].join('\n');
    expect(problemOf(bomb)).toMatch(/^config error: .*aliases/);
  });

  it('a few aliases are still fine', () => {
    const yaml = 'container:\n  diskGiB: &n 8\n  cores: *n\n';
    expect(parseConfig(yaml, {}).container.cores).toBe(8);
  });

  it('schema http to a remote host is refused by validation, as the client refuses it', () => {
    const yaml = `proxmox:\n  host: pve.example.com\n  schema: http\n  tokenId: root@pam!x\n  tokenSecret: ${SECRET}\n`;
    expect(problemOf(yaml)).toContain('proxmox.schema');
    expect(problemOf(yaml)).toContain('loopback');
  });

  it('schema http to a remote host in a clusters entry is refused too', () => {
    const yaml = [
      'clusters:',
      '  - name: b',
      '    proxmox: { host: 10.0.0.5, schema: http, tokenId: root@pam!x, tokenSecret: ' + SECRET + ' }',
      '',
    ].join('\n');
    expect(problemOf(yaml)).toContain('clusters[0].proxmox.schema');
  });

  it('schema http to a loopback host is accepted', () => {
    const yaml = `proxmox:\n  host: 127.0.0.1\n  schema: http\n  tokenId: root@pam!x\n  tokenSecret: ${SECRET}\n`;
    expect(parseConfig(yaml, {}).proxmox.schema).toBe('http');
  });
});
