import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config';

const SECRET = '12345678-1234-1234-1234-1234567890ab';

function errorOf(yaml: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('a bad value is rejected with its field path, what was expected and what was found', () => {
  it.each([
    [
      'lab:\n  migratePercent: abc\n',
      'config error: lab.migratePercent: expected a number between 0 and 100, got "abc"',
    ],
    [
      'generator:\n  limitPercent: 0\n',
      'config error: generator.limitPercent: expected a number greater than 0 and at most 100, got 0',
    ],
    [
      'lab:\n  migratePercent: 101\n',
      'config error: lab.migratePercent: expected a number between 0 and 100, got 101',
    ],
    [
      'lab:\n  dropPercent: 1.2\n',
      'config error: lab.dropPercent: expected a number between lab.migratePercent (8) and 100, got 1.2',
    ],
    [
      'manager:\n  automation: on\n',
      'config error: manager.automation: expected one of off, recommend, auto, got "on"',
    ],
    [
      'lab:\n  migrateChoice: worst-fit\n',
      'config error: lab.migrateChoice: expected one of random, best-fit, got "worst-fit"',
    ],
    ['lab:\n  dropMode: kill\n', 'config error: lab.dropMode: expected one of stop, destroy, got "kill"'],
    [
      'manager:\n  capacityBasis: free\n',
      'config error: manager.capacityBasis: expected one of allocated, used, got "free"',
    ],
    [
      'manager:\n  maxConcurrent: 1.5\n',
      'config error: manager.maxConcurrent: expected an integer between 1 and 64, got 1.5',
    ],
    [
      'manager:\n  admissionShare: 90\n',
      'config error: manager.admissionShare: expected a number greater than 0 and at most 1, got 90',
    ],
    [
      'manager:\n  cycleSeconds: 0\n',
      'config error: manager.cycleSeconds: expected a number greater than 0 and at most 86400, got 0',
    ],
    [
      'manager:\n  cooldownSeconds: -1\n',
      'config error: manager.cooldownSeconds: expected a number between 0 and 86400, got -1',
    ],
    [
      'scope:\n  vmidMin: 99\n',
      'config error: scope.vmidMin: expected an integer between 100 and 999999999, got 99',
    ],
    [
      'scope:\n  vmidMin: 2000\n',
      'config error: scope.vmidMax: expected at least scope.vmidMin (2000), got 1499 (the default)',
    ],
    [
      'scope:\n  tag: "two words"\n',
      'config error: scope.tag: expected a tag of letters, digits, _ - + ., got "two words"',
    ],
    [
      'generator:\n  memoryChoicesMiB: [256, x, 8]\n',
      'config error: generator.memoryChoicesMiB[1]: expected an integer between 16 and 4194304, got "x"\n' +
        'config error: generator.memoryChoicesMiB[2]: expected an integer between 16 and 4194304, got 8',
    ],
    [
      'generator:\n  memoryChoicesMiB: []\n',
      'config error: generator.memoryChoicesMiB: expected at least one memory size in MiB, got a list',
    ],
    [
      'generator:\n  memoryChoicesMiB: 512\n',
      'config error: generator.memoryChoicesMiB: expected a list of memory sizes in MiB, got 512',
    ],
    [
      'generator:\n  nodeWeights: { srv-px1: -1 }\n',
      'config error: generator.nodeWeights.srv-px1: expected a number between 0 and 1000000, got -1',
    ],
    [
      'generator:\n  nodeWeights: { a: 0, b: 0 }\n',
      'config error: generator.nodeWeights: expected at least one positive weight, or no weights at all, got a mapping',
    ],
    [
      'generator:\n  arrival: { law: poisson }\n',
      'config error: generator.arrival.law: expected one of periodic, uniform, exponential, got "poisson"',
    ],
    [
      'generator:\n  arrival: { minSeconds: 20, maxSeconds: 10 }\n',
      'config error: generator.arrival.maxSeconds: expected at least generator.arrival.minSeconds (20), got 10',
    ],
    [
      'generator:\n  arrival: { meanSeconds: 0 }\n',
      'config error: generator.arrival.meanSeconds: expected a number greater than 0 and at most 86400, got 0',
    ],
    [
      'container:\n  cores: 0\n',
      'config error: container.cores: expected an integer between 1 and 512, got 0',
    ],
    [
      'container:\n  template: ""\n',
      expect.stringContaining('config error: container.template: expected a template'),
    ],
    [
      'container:\n  unprivileged: yes\n',
      'config error: container.unprivileged: expected true or false, got "yes"',
    ],
    [
      'container:\n  hostnamePrefix: -ct\n',
      'config error: container.hostnamePrefix: expected letters, digits and inner hyphens, got "-ct"',
    ],
    [
      'temporal:\n  address: localhost\n',
      'config error: temporal.address: expected HOST:PORT, e.g. 127.0.0.1:7233, got "localhost"',
    ],
    [
      'temporal:\n  tls: { keyFile: /k.pem }\n',
      'config error: temporal.tls.certFile: expected a client certificate path alongside keyFile, got nothing',
    ],
    [
      'proxmox:\n  port: 70000\n',
      'config error: proxmox.port: expected an integer between 1 and 65535, got 70000',
    ],
    [
      'proxmox:\n  host: https://pve1:8006\n',
      'config error: proxmox.host: expected a host name or IP address, without scheme or port, got "https://pve1:8006"',
    ],
    ['proxmox:\n  schema: ftp\n', 'config error: proxmox.schema: expected one of https, http, got "ftp"'],
    [
      'proxmox:\n  tokenId: root@pam\n  tokenSecret: ' + SECRET + '\n',
      'config error: proxmox.tokenId: expected USER@REALM!TOKENID, e.g. root@pam!autopilot, got "root@pam"',
    ],
    [
      'proxmox:\n  tokenId: root@pam!ap\n',
      'config error: proxmox.tokenSecret: expected the token secret alongside tokenId, got nothing',
    ],
    [
      'proxmox:\n  username: root@pam\n',
      'config error: proxmox.password: expected a password alongside username, got nothing',
    ],
    [
      'proxmox:\n  tokenId: root@pam!ap\n  tokenSecret: ' +
        SECRET +
        '\n  username: root@pam\n  password: pw\n',
      'config error: proxmox.tokenId: expected either tokenId+tokenSecret or username+password, not both, got "root@pam!ap"',
    ],
    [
      'proxmox:\n  fingerprint: AB:CD\n',
      'config error: proxmox.fingerprint: expected a SHA-256 fingerprint, 32 hex byte pairs like AB:CD:..., got "AB:CD"',
    ],
    [
      'proxmox:\n  timeoutMs: 5\n',
      'config error: proxmox.timeoutMs: expected an integer between 100 and 600000, got 5',
    ],
    ['proxmox: 5\n', 'config error: proxmox: expected a mapping of settings, got 5'],
    ['manager:\n', 'config error: manager: expected a mapping of settings, got null (an empty value)'],
    ['- a\n- b\n', 'config error: expected a mapping of settings, got a list'],
  ])('%j', (yaml, expected) => {
    expect(errorOf(yaml)).toEqual(expected);
  });

  it('reports every problem of a file at once, one per line', () => {
    const message = errorOf('manager:\n  maxConcurrent: 0\nlab:\n  dropMode: kill\nproxmox:\n  port: x\n');
    expect(message.split('\n')).toEqual([
      'config error: manager.maxConcurrent: expected an integer between 1 and 64, got 0',
      'config error: lab.dropMode: expected one of stop, destroy, got "kill"',
      'config error: proxmox.port: expected an integer between 1 and 65535, got "x"',
    ]);
  });

  it('keeps the problems as data, for callers that present them differently', () => {
    try {
      parseConfig('manager:\n  maxConcurrent: 0\n', {});
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        { path: 'manager.maxConcurrent', message: 'expected an integer between 1 and 64, got 0' },
      ]);
    }
  });

  it('never echoes a secret it rejects', () => {
    const leaked = 'Hunter2-NOT-A-UUID';
    const message = errorOf(`proxmox:\n  tokenId: root@pam!ap\n  tokenSecret: ${leaked}\n`);
    expect(message).toBe(
      'config error: proxmox.tokenSecret: expected a lowercase UUID (the API token secret), got a value that is not shown (secret)',
    );
    expect(errorOf('temporal:\n  apiKey: "   "\n')).not.toContain('   "');
    expect(errorOf(`proxmox:\n  password: ${leaked}\n`)).not.toContain(leaked);
  });
});

describe('unknown keys', () => {
  it.each([
    ['manger: {}\n', 'config error: manger: unknown setting; did you mean "manager"?'],
    [
      'lab:\n  migratePrecent: 5\n',
      'config error: lab.migratePrecent: unknown setting; did you mean "migratePercent"?',
    ],
    [
      'manager:\n  thresholds:\n    migratePercent: 5\n',
      'config error: manager.thresholds: moved: set lab.migratePercent and lab.dropPercent instead',
    ],
    [
      'proxmox:\n  token_secret: x\n',
      'config error: proxmox.token_secret: unknown setting; did you mean "tokenSecret"?',
    ],
    [
      'scope:\n  vmids: 1400-1499\n',
      'config error: scope.vmids: unknown setting; expected one of vmidMin, vmidMax, pool, tag',
    ],
    [
      'generator:\n  arrival:\n    distribution: exponential\n',
      'config error: generator.arrival.distribution: unknown setting; expected one of law, meanSeconds, minSeconds, maxSeconds',
    ],
    [
      'temporal:\n  tls:\n    cert: /c.pem\n',
      'config error: temporal.tls.cert: unknown setting; did you mean "certFile"?',
    ],
  ])('%j is rejected', (yaml, expected) => {
    expect(errorOf(yaml)).toBe(expected);
  });
});

describe('YAML syntax', () => {
  it('names the source, line and column of a syntax error', () => {
    expect(() => parseConfig('manager: [\n', {}, { source: '/etc/pve-autopilot.yaml' })).toThrow(
      /^config error: \/etc\/pve-autopilot\.yaml: invalid YAML: .* at line \d+, column \d+$/,
    );
  });

  it('rejects a key given twice rather than keeping the last one', () => {
    expect(errorOf('manager:\n  cycleSeconds: 5\n  cycleSeconds: 10\n')).toMatch(
      /invalid YAML: Map keys must be unique/,
    );
  });
});
