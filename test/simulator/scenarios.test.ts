// The shipped scenarios: zones-6node's zones and pools, fleet-large's size, all answering through
// the API; the same seed builds the same scenario.
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index.js';
import { loadScenario, SCENARIOS } from '../../simulator/scenarios/index.js';
import { TEST_DATA_DIR, admin, tokenApi } from './support/client.js';

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
