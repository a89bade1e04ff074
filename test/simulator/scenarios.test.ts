// The shipped scenarios: zones-6node's zones and pools, fleet-large's size, all answering through
// the API; the same seed builds the same scenario.
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index.js';
import { loadScenario, SCENARIOS } from '../../simulator/scenarios/index.js';
import { TEST_DATA_DIR, admin, tokenApi } from './support/client.js';
import { clusterResourcesSchema } from '../../src/proxmox/schemas.js';
import { toClusterSnapshot } from '../../src/proxmox/index.js';
import { autoscaleConfigSchema, autoscaleRule, type Proposal } from '../../src/policy/index.js';
import { viewOf } from '../unit/policy/rules/autoscale-support.js';

type Row = Record<string, unknown>;

describe('scenarios', () => {
  it('zones-6node has three failure zones of two nodes and pools dns, mail and web with members', async () => {
    const sim = await startSimulator({
      scenario: 'zones-6node',
      port: 0,
      clock: { mode: 'manual' },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    try {
      const api = tokenApi(sim);
      const state = await admin<{ nodes: Array<{ name: string; zone: string }> }>(sim, 'GET', '/state');
      const zones = new Map<string, string[]>();
      for (const n of state.nodes) zones.set(n.zone, [...(zones.get(n.zone) ?? []), n.name]);
      expect([...zones.values()].map((v) => v.length)).toEqual([2, 2, 2]);
      expect(((await api.pools.$get()) as Row[]).map((p) => p.poolid)).toEqual(['dns', 'mail', 'web']);
      const members = async (pool: string): Promise<number> =>
        (((await api.pools.$(pool).$get()).members as Row[]) ?? []).length;
      expect([await members('dns'), await members('mail'), await members('web')]).toEqual([3, 2, 6]);
    } finally {
      await sim.stop();
    }
  });

  it('fleet-large has at least 50 nodes and 2,000 containers, all in /cluster/resources', async () => {
    const sim = await startSimulator({
      scenario: 'fleet-large',
      port: 0,
      clock: { mode: 'manual' },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    try {
      const res = (await tokenApi(sim).cluster.resources.$get()) as Row[];
      expect(res.filter((r) => r.type === 'node').length).toBeGreaterThanOrEqual(50);
      expect(res.filter((r) => r.type === 'lxc').length).toBeGreaterThanOrEqual(2000);
      const running = res.filter((r) => r.type === 'lxc' && r.status === 'running');
      expect(running.length).toBeGreaterThan(1500);
      expect(new Set(running.map((r) => r.node)).size).toBeGreaterThanOrEqual(45);
    } finally {
      await sim.stop();
    }
  });

  it('lab-2node puts its managed containers in 1400-1499', () => {
    const spec = SCENARIOS['lab-2node']!(1);
    expect(spec.managedRange).toEqual({ min: 1400, max: 1499 });
    expect(spec.nodes.map((n) => n.name)).toEqual(['srv-px1', 'srv-px2']);
    expect(spec.templates.some((t) => t.file.startsWith('debian-'))).toBe(true);
    expect(spec.containers.filter((c) => c.vmid >= 1400 && c.vmid <= 1499).length).toBeGreaterThanOrEqual(3);
  });

  it('lab-2node-autoscale gives the autoscale rule a core and a memory step to take within three cycles', async () => {
    const sim = await startSimulator({
      scenario: 'lab-2node-autoscale',
      port: 0,
      clock: { mode: 'manual' },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
    try {
      const api = tokenApi(sim);
      const config = autoscaleConfigSchema.parse({ enabled: true });
      let state = autoscaleRule.initialState();
      const proposals: Proposal[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const rows = clusterResourcesSchema.parse(await api.cluster.resources.$get());
        const now = 1_800_000_000_000 + cycle * 10_000;
        const result = autoscaleRule.evaluate(viewOf(toClusterSnapshot(rows, now), now), config, state);
        state = result.state;
        proposals.push(...result.proposals);
        await admin(sim, 'POST', '/clock/advance', { seconds: 10 });
      }
      const summary = proposals.map((p) => [p.action.kind === 'scale' ? p.action.vmid : 0, p.action.reason]);
      // The leak is at its limit from the start: bumped in the first cycle, ahead of the window.
      expect(summary[0]).toEqual([
        1404,
        expect.stringMatching(/^memory at its limit .*: 512 → 1024 MiB at once/),
      ]);
      // The ramp is at 95 % of its cores: a core once the window is full.
      expect(summary).toContainEqual([
        1401,
        expect.stringMatching(/^CPU 9\d % avg of 3 cycles ≥ 80 %: 2 → 3 cores$/),
      ]);
      expect(summary.filter(([vmid]) => vmid !== 1404 && vmid !== 1401)).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  it('a seed builds the same scenario every time, another seed a different fleet', () => {
    expect(JSON.stringify(SCENARIOS['fleet-large']!(3))).toBe(JSON.stringify(SCENARIOS['fleet-large']!(3)));
    expect(JSON.stringify(SCENARIOS['fleet-large']!(3))).not.toBe(
      JSON.stringify(SCENARIOS['fleet-large']!(4)),
    );
  });
});

describe('sized fleets (fleet-<N>), for benchmarks', () => {
  it('fleet-120 has 120 containers on 3 nodes; an out-of-range size is an unknown scenario', () => {
    const spec = loadScenario('fleet-120', 1);
    expect(spec.containers).toHaveLength(120);
    expect(spec.nodes).toHaveLength(3);
    expect(loadScenario('fleet-large', 1).containers).toHaveLength(2000);
    expect(() => loadScenario('fleet-0', 1)).toThrow(/unknown scenario 'fleet-0'/);
    expect(() => loadScenario('fleet-10001', 1)).toThrow(/unknown scenario/);
  });
});
