import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  arrivalLawOf,
  defaultConfig,
  generatorPolicyOf,
  coreSettingsOf,
  ruleConfigsOf,
  parseConfig,
  type Config,
} from '../../../src/config';
import type { TemporalSettings } from '../../../src/temporal/settings';

/** The rule sections' defaults, as parseConfig fills them in and ruleConfigsOf passes them on. */
const labDefaults = {
  enabled: true,
  automation: 'auto',
  priority: 40,
  migratePercent: 8,
  dropPercent: 12,
  migrateChoice: 'best-fit',
  dropMode: 'destroy',
} satisfies Config['lab'];
const spreadDefaults = {
  enabled: false,
  automation: 'recommend',
  priority: 70,
  excludePools: [],
  tagPrefix: 'spread-',
} satisfies Config['spread'];
const autoscaleDefaults = {
  enabled: false,
  automation: 'auto',
  priority: 50,
  cpuUpPercent: 80,
  cpuDownPercent: 30,
  memoryUpPercent: 85,
  memoryDownPercent: 40,
  minCores: 1,
  maxCores: 8,
  minMemoryMiB: 512,
  maxMemoryMiB: 8192,
  coreStep: 1,
  memoryStepMiB: 512,
  cooldownSeconds: 300,
  evaluationPeriods: 3,
  overrides: [],
  maxConcurrent: 2,
  hostMaxCpuPercent: 95,
  hostMaxMemoryPercent: 95,
  emergencyHostMemoryPercent: 98,
} satisfies Config['autoscale'];
const balanceDefaults = {
  enabled: false,
  automation: 'auto',
  priority: 60,
  weights: { cpu: 1, memory: 1, disk: 0 },
  threshold: 0.3,
  target: 0.15,
  holdRounds: 3,
  margin: 0.005,
  cooldownSeconds: 3600,
  maxMovesPerRound: 8,
  maxMovesAhead: 16,
} satisfies Config['balance'];

const affinityDefaults = {
  enabled: true,
  automation: 'auto',
  priority: 90,
  rules: [],
} satisfies Config['affinity'];

const examplePath = new URL('../../../pve-autopilot.example.yaml', import.meta.url);

describe('defaults', () => {
  it('reproduce the INSA lab when no file and no environment set anything', () => {
    expect(parseConfig('', {})).toEqual({
      cluster: { name: 'pve' },
      scope: { vmidMin: 1400, vmidMax: 1499 },
      manager: {
        automation: 'auto',
        cycleSeconds: 10,
        capacityBasis: 'allocated',
        maxConcurrent: 2,
        maxPerNode: 2,
        maxPerKind: {},
        cooldownSeconds: 60,
        admissionShare: 0.9,
        cpuAdmissionShare: 0.9,
      },
      lab: labDefaults,
      autoscale: autoscaleDefaults,
      affinity: affinityDefaults,
      spread: spreadDefaults,
      zones: {},
      balance: balanceDefaults,
      generator: {
        limitPercent: 16,
        nodeWeights: { 'srv-px1': 66, 'srv-px2': 33 },
        memoryChoicesMiB: [256, 512, 768],
        arrival: { law: 'periodic', meanSeconds: 5, minSeconds: 1, maxSeconds: 10 },
        backoffSeconds: 30,
      },
      container: {
        template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        storage: 'local-lvm',
        diskGiB: 8,
        cores: 1,
        swapMiB: 512,
        net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
        hostnamePrefix: 'autopilot',
        unprivileged: true,
        vmidQuarantineMinutes: 10,
      },
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'pve-autopilot' },
      proxmox: { port: 8006, schema: 'https', timeoutMs: 15000 },
      alerts: {
        evaluateSeconds: 15,
        sinks: {},
        rules: [],
        delivery: { initialSeconds: 1, maximumSeconds: 60, timeoutSeconds: 30 },
      },
    } satisfies Config);
  });

  it('fill in the rest of a section that sets only one key', () => {
    const config = parseConfig('lab:\n  migratePercent: 5\n', {});
    expect(config.lab).toMatchObject({ migratePercent: 5, dropPercent: 12, enabled: true });
    expect(config.manager.cycleSeconds).toBe(10);
  });

  it('treat an empty or comment-only file as setting nothing', () => {
    expect(parseConfig('# nothing yet\n', {})).toEqual(defaultConfig());
  });

  it('turn into the lab manager and generator policies', () => {
    const config = defaultConfig();
    expect(coreSettingsOf(config)).toEqual({
      scope: { vmidMin: 1400, vmidMax: 1499 },
      capacityBasis: 'allocated',
      admissionShare: 0.9,
      cpuShare: 0.9,
      maxConcurrent: 2,
      maxPerNode: 2,
      maxPerKind: {},
      cooldownMs: 60_000,
      drainedNodes: [],
    });
    expect(ruleConfigsOf(config)).toEqual({
      lab: labDefaults,
      autoscale: autoscaleDefaults,
      affinity: affinityDefaults,
      spread: spreadDefaults,
      balance: balanceDefaults,
    });
    expect(generatorPolicyOf(config)).toEqual({
      scope: { vmidMin: 1400, vmidMax: 1499 },
      capacityBasis: 'allocated',
      limitPercent: 16,
      nodeWeights: { 'srv-px1': 66, 'srv-px2': 33 },
      memoryChoicesMiB: [256, 512, 768],
    });
    expect(arrivalLawOf(config)).toEqual({ law: 'periodic', periodSeconds: 5 });
  });

  it.each([
    ['periodic', { law: 'periodic', periodSeconds: 7 }],
    ['uniform', { law: 'uniform', minSeconds: 2, maxSeconds: 9 }],
    ['exponential', { law: 'exponential', meanSeconds: 7 }],
  ])('map the %s arrival law to the fields it uses', (law, expected) => {
    const yaml = `generator:\n  arrival: { law: ${law}, meanSeconds: 7, minSeconds: 2, maxSeconds: 9 }\n`;
    expect(arrivalLawOf(parseConfig(yaml, {}))).toEqual(expected);
  });

  it('carry the managed pool and tag into the policies', () => {
    const config = parseConfig('scope: { pool: lab, tag: autopilot }\n', {});
    expect(coreSettingsOf(config).scope).toEqual({
      vmidMin: 1400,
      vmidMax: 1499,
      pool: 'lab',
      tag: 'autopilot',
    });
  });

  it('give a temporal section that src/temporal takes as it is', () => {
    const settings: TemporalSettings = parseConfig('temporal: { tls: { caFile: /ca.pem } }\n', {}).temporal;
    expect(settings).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'pve-autopilot',
      tls: { caFile: '/ca.pem' },
    });
  });
});

describe('the example config', () => {
  it('parses, and states exactly the defaults', () => {
    const text = readFileSync(examplePath, 'utf8');
    expect(parseConfig(text, {}, { source: 'pve-autopilot.example.yaml' })).toEqual(defaultConfig());
  });

  it('still parses with every commented-out setting switched on', () => {
    // Uncomment "# key: value" lines (not prose); placeholders for secrets come from the environment.
    const text = readFileSync(examplePath, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*# (tokenSecret|password|username|realm|apiKey|fingerprint):/.test(line))
      .map((line) => line.replace(/^(\s*)# (\s*)([a-zA-Z]+:(?: \S+)?)(\s+#.*)?$/, '$1$2$3'))
      .join('\n');
    const config = parseConfig(text, { PROXMOX_TOKEN_SECRET: '12345678-1234-1234-1234-1234567890ab' });
    expect(config.scope).toEqual({ vmidMin: 1400, vmidMax: 1499, pool: 'autopilot', tag: 'autopilot' });
    expect(config.temporal.tls).toEqual({
      certFile: '/etc/pve-autopilot/temporal-client.pem',
      keyFile: '/etc/pve-autopilot/temporal-client.key',
      caFile: '/etc/pve-autopilot/temporal-ca.pem',
      serverName: 'temporal.example.org',
    });
    expect(config.proxmox).toMatchObject({
      host: 'pve1.example.org',
      tokenId: 'root@pam!autopilot',
      caFile: '/etc/pve/pve-root-ca.pem',
    });
  });
});
