// The projected cluster's admission: what it refuses, and what it costs the budgets.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/domain';
import { admissionProblem, budgetProblem, projectCluster, type CoreSettings } from '../../../src/policy';
import { ct, node, snapshot } from './fixtures';

const settings: CoreSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 4,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

describe('projected cluster admission', () => {
  it('refuses a migration to the node the container is already on', () => {
    const cluster = projectCluster(snapshot([node('pve1'), node('pve2')], [ct(1400, 'pve1')]), settings, []);
    const stay: Action = { kind: 'migrate', vmid: 1400, from: 'pve1', to: 'pve1', reason: 'test' };
    expect(admissionProblem(cluster, stay)).toBe('CT 1400 is on pve1 already');
    const move: Action = { kind: 'migrate', vmid: 1400, from: 'pve1', to: 'pve2', reason: 'test' };
    expect(admissionProblem(cluster, move)).toBeNull();
  });
});

describe('projected cluster budgets', () => {
  it('counts a migration in flight on its nodes even when its container is missing from the observation', () => {
    const inFlight: Action = { kind: 'migrate', vmid: 1499, from: 'pve1', to: 'pve2', reason: 'in flight' };
    const cluster = projectCluster(
      snapshot([node('pve1'), node('pve2'), node('pve3')], [ct(1400, 'pve3')]),
      { ...settings, maxPerNode: 1 },
      [inFlight],
    );
    const next: Action = { kind: 'migrate', vmid: 1400, from: 'pve3', to: 'pve2', reason: 'test' };
    expect(budgetProblem(cluster, next)).toBe('at most 1 migration(s) into or out of pve2 at once');
  });
});

describe('projected cluster containers', () => {
  it('finds a container by vmid whether the observation lists them in vmid order or not', () => {
    const cts = [ct(1400, 'pve1'), ct(1402, 'pve2'), ct(1405, 'pve1')];
    for (const list of [cts, [...cts].reverse()]) {
      const cluster = projectCluster(snapshot([node('pve1'), node('pve2')], list), settings, []);
      expect(cluster.containers.get(1402)?.node).toBe('pve2');
      expect(cluster.containers.get(1405)?.node).toBe('pve1');
      expect(cluster.containers.get(1401)).toBeUndefined();
      expect(cluster.containers.get(1406)).toBeUndefined();
    }
  });
});
