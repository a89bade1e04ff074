// What health-check asks of the Proxmox token: the privileges each enabled rule's sagas need, found
// on the path PVE checks or an ancestor that propagates.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config';
import { missingPrivileges, privilegesFor } from '../../../src/cli/commands/health-check';
import { parseArgs } from '../../../src/cli/args';

const auditor = { '/': { 'VM.Audit': 1, 'Sys.Audit': 1 } };
const admin = {
  '/': {
    'VM.Audit': 1,
    'Sys.Audit': 1,
    'VM.Migrate': 1,
    'VM.PowerMgmt': 1,
    'VM.Allocate': 1,
    'VM.Config.CPU': 1,
    'VM.Config.Memory': 1,
    'Datastore.AllocateSpace': 1,
  },
};

describe('health-check privileges', () => {
  it('the default rules (lab, auto, destroy) need migrate, power and allocate on /vms', () => {
    const config = parseConfig('', {});
    const missing = missingPrivileges(privilegesFor(config, false), auditor, config);
    expect(missing.map((m) => `${m.privilege} ${m.path}`)).toEqual([
      'VM.Migrate /vms',
      'VM.PowerMgmt /vms',
      'VM.Allocate /vms',
    ]);
    expect(missingPrivileges(privilegesFor(config, true), admin, config)).toEqual([]);
  });

  it('automation off needs reading only; autoscale adds the config privileges', () => {
    const off = parseConfig('manager:\n  automation: off\n', {});
    expect(missingPrivileges(privilegesFor(off, false), auditor, off)).toEqual([]);
    const scale = parseConfig('lab:\n  enabled: false\nautoscale:\n  enabled: true\n', {});
    expect(missingPrivileges(privilegesFor(scale, false), auditor, scale).map((m) => m.privilege)).toEqual([
      'VM.Config.CPU',
      'VM.Config.Memory',
    ]);
  });

  it('a grant on the managed pool counts; one on an ancestor only when it propagates', () => {
    const config = parseConfig('scope:\n  pool: autopilot\nlab:\n  dropMode: stop\n', {});
    const needs = privilegesFor(config, false);
    const onPool = { ...auditor, '/pool/autopilot': { 'VM.Migrate': 1, 'VM.PowerMgmt': 1 } };
    expect(missingPrivileges(needs, onPool, config)).toEqual([]);
    const notPropagated = { '/': { 'VM.Audit': 0, 'Sys.Audit': 0, 'VM.Migrate': 0, 'VM.PowerMgmt': 0 } };
    expect(missingPrivileges(needs, notPropagated, config).map((m) => m.privilege)).toContain('VM.Migrate');
  });
});

describe('health-check and history arguments', () => {
  it('--format json, or --json', () => {
    expect(parseArgs(['health-check', '--format', 'json'])).toMatchObject({ command: { format: 'json' } });
    expect(parseArgs(['health-check', '--json'])).toMatchObject({ command: { format: 'json' } });
    expect(parseArgs(['health-check'])).toMatchObject({ command: { format: 'text' } });
    expect(() => parseArgs(['health-check', '--format', 'yaml'])).toThrow(
      'health-check: --format: expected one of text, json, got "yaml"',
    );
  });

  it('history filters', () => {
    const before = Date.now();
    const parsed = parseArgs(['history', '--vmid', '1401', '--outcome', 'refused', '--since', '2h']);
    expect(parsed).toMatchObject({ command: { name: 'history', vmid: 1401, outcome: 'refused', limit: 50 } });
    const after = Date.now();
    const since = (parsed as { command: { sinceMs: number } }).command.sinceMs;
    expect(since).toBeGreaterThanOrEqual(before - 7_200_000);
    expect(since).toBeLessThanOrEqual(after - 7_200_000);
    expect(() => parseArgs(['history', '--outcome', 'failed'])).toThrow(
      'history: --outcome: expected one of',
    );
  });
});
