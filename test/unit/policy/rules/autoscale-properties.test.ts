// Properties of the autoscale rule on arbitrary busy clusters: values stay within their limits,
// scale-ups never take a node past the host limits, and with the lab rule in the same round no
// node is overcommitted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, ContainerState, NodeState } from '../../../../src/domain';
import {
  autoscaleConfigSchema,
  autoscaleRule,
  effectiveSettings,
  emptyCore,
  labConfigSchema,
  labRule,
  projectCluster,
  step,
  type AutoscaleConfig,
  type CoreSettings,
  type ManagerCore,
} from '../../../../src/policy';
import { GiB, MiB, NOW } from '../fixtures';
import { settings, viewOf } from './autoscale-support';

const names = ['pve1', 'pve2', 'pve3'];

const nodeArb = (name: string): fc.Arbitrary<NodeState> =>
  fc
    .record({
      memGiB: fc.integer({ min: 4, max: 32 }),
      used: fc.double({ min: 0.05, max: 1, noNaN: true }),
      cpus: fc.integer({ min: 2, max: 32 }),
      cpu: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map((r) => ({
      name,
      status: 'online' as const,
      cpu: r.cpu,
      maxcpu: r.cpus,
      mem: Math.floor(r.memGiB * GiB * r.used),
      maxmem: r.memGiB * GiB,
      disk: 0,
      maxdisk: 100 * GiB,
    }));

const ctArb = (nodes: readonly string[]): fc.Arbitrary<ContainerState> =>
  fc
    .record({
      vmid: fc.integer({ min: 1400, max: 1420 }),
      node: fc.constantFrom(...nodes),
      stopped: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
      cores: fc.integer({ min: 1, max: 12 }),
      cpu: fc.double({ min: 0, max: 1, noNaN: true }),
      limitMiB: fc.constantFrom(256, 512, 1024, 2048, 4096, 9000),
      memShare: fc.double({ min: 0, max: 1, noNaN: true }),
      tags: fc.constantFrom([], ['db']),
      pool: fc.constantFrom(undefined, 'web'),
    })
    .map((r) => ({
      vmid: r.vmid,
      name: `ct-${r.vmid}`,
      node: r.node,
      status: r.stopped ? ('stopped' as const) : ('running' as const),
      cpu: r.stopped ? 0 : r.cpu,
      maxcpu: r.cores,
      mem: r.stopped ? 0 : Math.floor(r.limitMiB * MiB * r.memShare),
      maxmem: r.limitMiB * MiB,
      disk: 0,
      maxdisk: 4 * GiB,
      uptime: r.stopped ? 0 : 3600,
      tags: [...r.tags],
      ...(r.pool === undefined ? {} : { pool: r.pool }),
      template: false,
    }));

const snapshotArb: fc.Arbitrary<ClusterSnapshot> = fc.integer({ min: 1, max: 3 }).chain((n) => {
  const nodes = names.slice(0, n);
  return fc.record({
    takenAt: fc.constant(NOW),
    nodes: fc.tuple(...nodes.map(nodeArb)),
    containers: fc.uniqueArray(ctArb(nodes), { minLength: 1, maxLength: 12, selector: (c) => c.vmid }),
  });
});

const configArb: fc.Arbitrary<AutoscaleConfig> = fc
  .record({
    minCores: fc.integer({ min: 1, max: 4 }),
    extraCores: fc.integer({ min: 0, max: 6 }),
    minMemoryMiB: fc.constantFrom(256, 512, 1024),
    extraMemoryMiB: fc.constantFrom(0, 512, 4096),
    coreStep: fc.integer({ min: 1, max: 3 }),
    memoryStepMiB: fc.constantFrom(128, 512, 1024),
    evaluationPeriods: fc.integer({ min: 1, max: 3 }),
    percentile: fc.constantFrom(undefined, 50, 90),
    hostMaxCpuPercent: fc.integer({ min: 40, max: 100 }),
    hostMaxMemoryPercent: fc.integer({ min: 40, max: 100 }),
    emergencyHostMemoryPercent: fc.integer({ min: 80, max: 100 }),
    dbMaxCores: fc.constantFrom(undefined, 4, 12),
    webDisabled: fc.boolean(),
  })
  .map((r) =>
    autoscaleConfigSchema.parse({
      enabled: true,
      minCores: r.minCores,
      maxCores: r.minCores + r.extraCores,
      minMemoryMiB: r.minMemoryMiB,
      maxMemoryMiB: r.minMemoryMiB + r.extraMemoryMiB,
      coreStep: r.coreStep,
      memoryStepMiB: r.memoryStepMiB,
      evaluationPeriods: r.evaluationPeriods,
      cooldownSeconds: 0,
      ...(r.percentile === undefined ? {} : { percentile: r.percentile }),
      hostMaxCpuPercent: r.hostMaxCpuPercent,
      hostMaxMemoryPercent: r.hostMaxMemoryPercent,
      emergencyHostMemoryPercent: r.emergencyHostMemoryPercent,
      overrides: [
        ...(r.dbMaxCores === undefined || r.dbMaxCores < r.minCores
          ? []
          : [{ tag: 'db', maxCores: r.dbMaxCores }]),
        ...(r.webDisabled ? [{ pool: 'web', enabled: false }] : []),
      ],
    }),
  );

/** The rule's proposals after evaluationPeriods rounds on the same observation. */
function proposalsAfterWindow(snapshot: ClusterSnapshot, config: AutoscaleConfig) {
  let state = autoscaleRule.initialState();
  let result = autoscaleRule.evaluate(viewOf(snapshot, NOW), config, state);
  for (let i = 1; i < config.evaluationPeriods; i++) {
    state = result.state;
    result = autoscaleRule.evaluate(viewOf(snapshot, NOW + i * 10_000), config, state);
  }
  return result.proposals;
}

describe('autoscale rule, for arbitrary clusters', () => {
  it('never proposes cores or memory outside the container’s [min, max] (but an emergency’s use + step)', () => {
    fc.assert(
      fc.property(snapshotArb, configArb, (snapshot, config) => {
        for (const { action } of proposalsAfterWindow(snapshot, config)) {
          if (action.kind !== 'scale') throw new Error(`unexpected ${action.kind}`);
          const ct = snapshot.containers.find((c) => c.vmid === action.vmid) as ContainerState;
          const eff = effectiveSettings(ct, config);
          if (!('t' in eff)) throw new Error(`CT ${ct.vmid} is disabled yet scaled`);
          if (action.cores !== undefined) {
            expect(action.cores).toBeGreaterThanOrEqual(eff.t.minCores);
            expect(action.cores).toBeLessThanOrEqual(eff.t.maxCores);
          }
          if (action.memoryMiB !== undefined) {
            expect(action.memoryMiB).toBeGreaterThanOrEqual(eff.t.minMemoryMiB);
            // Above maxMemoryMiB only on the way down from further above: an emergency never
            // shrinks a container below its use plus one step, even when that is over its maximum.
            if (action.memoryMiB > eff.t.maxMemoryMiB) {
              expect(action.memoryMiB).toBeLessThan(ct.maxmem / MiB);
              expect(action.memoryMiB).toBe(Math.ceil(ct.mem / MiB) + eff.t.memoryStepMiB);
            }
          }
          expect(ct.status).toBe('running');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lets its scale-ups take a node past hostMaxCpuPercent or hostMaxMemoryPercent', () => {
    fc.assert(
      fc.property(snapshotArb, configArb, (snapshot, config) => {
        const view = viewOf(snapshot, NOW);
        const mem = new Map(view.loads.map((l) => [l.node, l.usedBytes]));
        const cpu = new Map(snapshot.nodes.map((n) => [n.name, n.cpu * n.maxcpu]));
        for (const { action } of proposalsAfterWindow(snapshot, config)) {
          if (action.kind !== 'scale') continue;
          const ct = snapshot.containers.find((c) => c.vmid === action.vmid) as ContainerState;
          const node = snapshot.nodes.find((n) => n.name === ct.node) as NodeState;
          const growth = Math.max(0, (action.memoryMiB ?? 0) * MiB - ct.maxmem);
          const added = Math.max(0, (action.cores ?? 0) - ct.maxcpu);
          if (growth > 0) {
            const after = (mem.get(node.name) ?? 0) + growth;
            expect(after * 100).toBeLessThanOrEqual(config.hostMaxMemoryPercent * node.maxmem);
            mem.set(node.name, after);
          }
          if (added > 0) {
            const after = (cpu.get(node.name) ?? 0) + added;
            expect(after * 100).toBeLessThanOrEqual(config.hostMaxCpuPercent * node.maxcpu + 1e-9);
            cpu.set(node.name, after);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with the lab rule in the same rounds, never overcommits a node', () => {
    const sharesArb = fc.record({
      admissionShare: fc.double({ min: 0.5, max: 1, noNaN: true }),
      cpuShare: fc.double({ min: 0.5, max: 1, noNaN: true }),
      migratePercent: fc.integer({ min: 2, max: 30 }),
    });
    fc.assert(
      fc.property(snapshotArb, configArb, sharesArb, (snapshot, config, shares) => {
        const s: CoreSettings = {
          ...settings,
          admissionShare: shares.admissionShare,
          cpuShare: shares.cpuShare,
          maxConcurrent: 16,
        };
        const lab = labConfigSchema.parse({ migratePercent: shares.migratePercent, dropPercent: 100 });
        let core: ManagerCore = emptyCore(7);
        for (let cycle = 1; cycle <= config.evaluationPeriods; cycle++) {
          core = step({
            core,
            settings: s,
            automation: 'auto',
            rules: [
              { rule: labRule, config: lab },
              { rule: autoscaleRule, config },
            ],
            snapshot,
            cycle,
            evaluate: true,
            now: NOW + cycle * 10_000,
            outcomes: [],
          }).core;
        }
        const running = core.decisions.filter((d) => d.status === 'running').map((d) => d.action);
        const before = projectCluster(snapshot, s, []);
        const after = projectCluster(snapshot, s, running);
        for (const [name, n] of after.nodes) {
          const was = before.nodes.get(name);
          if (!was) continue;
          // A node that took memory (a move in, a scale-up) stays within admission.
          if (n.usedBytes > was.usedBytes) {
            expect(n.usedBytes).toBeLessThanOrEqual(s.admissionShare * n.maxmem);
          }
          for (const a of running) {
            if (a.kind !== 'scale' || a.cores === undefined) continue;
            if (after.containers.get(a.vmid)?.node === name) expect(a.cores).toBeLessThanOrEqual(n.maxcpu);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
