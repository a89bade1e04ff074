// `pve-autopilot suggest` end to end on zones-6node, whose zone-c nodes hold most of the load: the
// suggestions are valid moves (managed, running containers on their source, another online node as
// target) whose targets have room, and nothing is started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterSnapshot } from '../../src/domain';
import { startTestSim, type TestSim } from '../support/sim';
import { cliWorld, type CliWorld } from './support/cli';

let t: TestSim;
let w: CliWorld;
let before: ClusterSnapshot;
beforeAll(async () => {
  t = await startTestSim({ scenario: 'zones-6node', clock: { mode: 'manual' } });
  await t.sim.advance(60);
  w = await cliWorld(t.sim, 'suggest-e2e', 'scope: { vmidMin: 1000, vmidMax: 1999 }\n');
  before = await t.pve.clusterSnapshot();
});
afterAll(async () => {
  await t?.stop();
});

interface Suggestion {
  vmid: number;
  source: string;
  target: string;
  memoryMiB: number;
  limitMiB: number;
  imbalanceBefore: number;
  imbalanceAfter: number;
  targetProjectedMemPercent: number;
  reason: string;
}

describe('pve-autopilot suggest', () => {
  it('--json gives valid suggestions whose targets have room, each cutting the imbalance', async () => {
    const run = await w.cli(['suggest', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { imbalance: number; suggestions: Suggestion[] };
    expect(doc.suggestions.length).toBeGreaterThan(0);
    const nodes = new Map(before.nodes.map((n) => [n.name, n]));
    const cts = new Map(before.containers.map((c) => [c.vmid, c]));
    // What each target takes in, as admission counts it: used memory plus every incoming limit.
    const incoming = new Map<string, number>();
    let imbalance = doc.imbalance;
    for (const s of doc.suggestions) {
      const ct = cts.get(s.vmid)!;
      expect(ct).toBeDefined();
      expect(s.vmid).toBeGreaterThanOrEqual(1000);
      expect(s.vmid).toBeLessThanOrEqual(1999);
      expect(ct.status).toBe('running');
      expect(s.source).toBe(ct.node);
      expect(s.target).not.toBe(s.source);
      expect(s.limitMiB).toBe(Math.round(ct.maxmem / 2 ** 20));
      const target = nodes.get(s.target)!;
      expect(target.status).toBe('online');
      const reserved = (incoming.get(s.target) ?? 0) + ct.maxmem;
      incoming.set(s.target, reserved);
      const projected = ((target.mem + reserved) * 100) / target.maxmem;
      // Room: within the 90 % admission share, and the reported figure is that projection.
      expect(projected).toBeLessThanOrEqual(90);
      expect(s.targetProjectedMemPercent).toBeCloseTo(projected, 0);
      expect(s.imbalanceBefore).toBeCloseTo(imbalance, 3);
      expect(s.imbalanceAfter).toBeLessThan(s.imbalanceBefore);
      imbalance = s.imbalanceAfter;
    }
  });

  it('starts nothing, and prints a table for people', async () => {
    const run = await w.cli(['suggest']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Balance suggestions for cluster e2e-\w+ \(nothing is started\)/);
    expect(run.stdout).toContain('VMID  FROM');
    const after = await t.pve.clusterSnapshot();
    expect(after.containers.map((c) => [c.vmid, c.node, c.status])).toEqual(
      before.containers.map((c) => [c.vmid, c.node, c.status]),
    );
    const state = await t.admin<{ tasks: Array<{ type: string }> }>('GET', '/_sim/state');
    expect(state.tasks.filter((x) => x.type === 'vzmigrate')).toEqual([]);
  });
});
