// Properties of the manager's round over random clusters and random proposals from several rules:
// the plan (the commands of one step) never overcommits a node and never exceeds a budget, with the
// operations in flight and the approved decisions counted. The rules here are throwaway ones that
// propose what fast-check drew; the checks recompute everything from the snapshot, not from step's
// own projection.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Action, ClusterSnapshot, ContainerState, NodeState } from '../../../src/domain';
import {
  emptyCore,
  step,
  type AnyRule,
  type CoreSettings,
  type Decision,
  type EnabledRule,
  type RoundInput,
} from '../../../src/policy';
import { GiB, MiB, NOW } from './fixtures';

const NODE_NAMES = ['pve1', 'pve2', 'pve3', 'pve4', 'pve5'];

const nodeArb = (name: string): fc.Arbitrary<NodeState> =>
  fc
    .record({
      online: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      maxmemGiB: fc.integer({ min: 2, max: 16 }),
      memShare: fc.double({ min: 0, max: 1, noNaN: true }),
      maxcpu: fc.constantFrom(2, 4, 8),
      cpu: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map((r) => ({
      name,
      status: r.online ? 'online' : 'offline',
      cpu: r.cpu,
      maxcpu: r.maxcpu,
      mem: Math.floor(r.maxmemGiB * GiB * r.memShare),
      maxmem: r.maxmemGiB * GiB,
      disk: 0,
      maxdisk: 100 * GiB,
    }));

const containerArb = (nodes: readonly string[]): fc.Arbitrary<ContainerState> =>
  fc
    .record({
      vmid: fc.integer({ min: 1400, max: 1460 }),
      node: fc.constantFrom(...nodes),
      running: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
      maxmemMiB: fc.constantFrom(256, 512, 1024, 2048, 4096),
      memShare: fc.double({ min: 0, max: 1, noNaN: true }),
      maxcpu: fc.constantFrom(1, 2, 4),
      cpu: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map((r) => ({
      vmid: r.vmid,
      name: `ct-${r.vmid}`,
      node: r.node,
      status: r.running ? 'running' : 'stopped',
      cpu: r.running ? r.cpu : 0,
      maxcpu: r.maxcpu,
      mem: r.running ? Math.floor(r.maxmemMiB * MiB * r.memShare) : 0,
      maxmem: r.maxmemMiB * MiB,
      disk: 0,
      maxdisk: 8 * GiB,
      uptime: 86_400,
      tags: [],
      template: false,
    }));

const clusterArb: fc.Arbitrary<ClusterSnapshot> = fc.integer({ min: 1, max: 5 }).chain((count) => {
  const names = NODE_NAMES.slice(0, count);
  return fc.record({
    takenAt: fc.constant(NOW),
    nodes: fc.tuple(...names.map(nodeArb)),
    containers: fc.uniqueArray(containerArb(names), { maxLength: 30, selector: (c) => c.vmid }),
  });
});

const settingsArb: fc.Arbitrary<CoreSettings> = fc.record({
  scope: fc.constant({ vmidMin: 1400, vmidMax: 1499 }),
  capacityBasis: fc.constantFrom('allocated' as const, 'used' as const),
  admissionShare: fc.double({ min: 0.2, max: 1, noNaN: true }),
  cpuShare: fc.double({ min: 0.2, max: 1, noNaN: true }),
  maxConcurrent: fc.integer({ min: 1, max: 8 }),
  maxPerNode: fc.integer({ min: 1, max: 4 }),
  maxPerKind: fc.record(
    {
      migrate: fc.integer({ min: 1, max: 5 }),
      drop: fc.integer({ min: 1, max: 5 }),
      scale: fc.integer({ min: 1, max: 5 }),
    },
    { requiredKeys: [] },
  ),
  cooldownMs: fc.constant(60_000),
  drainedNodes: fc.subarray(NODE_NAMES, { maxLength: 2 }),
});

/** A random action on one of the snapshot's containers (or a vmid it does not have). */
function actionArb(cluster: ClusterSnapshot): fc.Arbitrary<Action> {
  const vmids = [...cluster.containers.map((c) => c.vmid), 1499];
  const nodeNames = cluster.nodes.map((n) => n.name);
  const nodeOf = (vmid: number): string => cluster.containers.find((c) => c.vmid === vmid)?.node ?? 'pve1';
  const vmid = fc.constantFrom(...vmids);
  return fc.oneof(
    fc
      .record({ vmid, to: fc.constantFrom(...nodeNames), stale: fc.integer({ min: 0, max: 9 }) })
      .map(({ vmid, to, stale }): Action => {
        // Now and then a stale source, which admission must refuse.
        const from = stale === 0 ? (nodeNames.find((n) => n !== nodeOf(vmid)) ?? nodeOf(vmid)) : nodeOf(vmid);
        return { kind: 'migrate', vmid, from, to, reason: 'test' };
      }),
    fc
      .record({ vmid, mode: fc.constantFrom('stop' as const, 'destroy' as const) })
      .map(({ vmid, mode }): Action => ({ kind: 'drop', vmid, node: nodeOf(vmid), mode, reason: 'test' })),
    fc
      .record({
        vmid,
        memoryMiB: fc.option(fc.constantFrom(128, 512, 1024, 4096, 8192), { nil: undefined }),
        cores: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      })
      .map(({ vmid, memoryMiB, cores }): Action => ({
        kind: 'scale',
        vmid,
        node: nodeOf(vmid),
        ...(memoryMiB === undefined ? {} : { memoryMiB }),
        ...(cores === undefined ? { cores: 1 } : { cores }),
        reason: 'test',
      })),
  );
}

const proposalsArb = (cluster: ClusterSnapshot) =>
  fc.array(
    fc.record({
      action: actionArb(cluster),
      priority: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    }),
    { maxLength: 12 },
  );

/** A throwaway rule that proposes exactly what fast-check drew. */
function fixedRule(
  name: string,
  proposals: Array<{ action: Action; priority: number | undefined }>,
): AnyRule {
  return {
    name,
    config: z.object({}).passthrough() as unknown as AnyRule['config'],
    initialState: () => null,
    evaluate: () => ({
      proposals: proposals.map((p) => (p.priority === undefined ? { action: p.action } : p)),
      state: null,
      notes: [],
    }),
  };
}

const roundArb: fc.Arbitrary<RoundInput> = fc
  .tuple(clusterArb, settingsArb)
  .chain(([snapshot, settings]) =>
    fc.record({
      snapshot: fc.constant(snapshot),
      settings: fc.constant(settings),
      rules: fc.array(
        fc.record({
          proposals: proposalsArb(snapshot),
          priority: fc.integer({ min: 0, max: 100 }),
          automation: fc.constantFrom('auto' as const, 'auto' as const, 'recommend' as const),
        }),
        { minLength: 2, maxLength: 3 },
      ),
      // Operations of earlier rounds: in flight (running) or approved and waiting for a slot.
      earlier: fc.array(
        fc.record({
          action: actionArb(snapshot),
          status: fc.constantFrom('running' as const, 'approved' as const),
        }),
        { maxLength: 5 },
      ),
    }),
  )
  .map(({ snapshot, settings, rules, earlier }) => {
    const enabled: EnabledRule[] = rules.map((r, i) => ({
      rule: fixedRule(`test-${i + 1}`, r.proposals),
      config: { enabled: true, automation: r.automation, priority: r.priority },
    }));
    // One operation per container among the earlier ones too, as the core keeps it.
    const seen = new Set<number>();
    const decisions: Decision[] = [];
    earlier.forEach((e, i) => {
      if (e.action.kind === 'provision' || seen.has(e.action.vmid)) return;
      seen.add(e.action.vmid);
      decisions.push({ id: `c1-${i + 1}`, cycle: 1, at: NOW - 10_000, action: e.action, status: e.status });
    });
    return {
      core: { ...emptyCore(1), decisions },
      settings,
      automation: 'auto' as const,
      rules: enabled,
      snapshot,
      cycle: 2,
      evaluate: true,
      now: NOW,
      outcomes: [],
    };
  });

/** What each node holds in the observation plus what is on its way in, recomputed from scratch. */
interface Incoming {
  memBytes: number;
  cpuCores: number;
  received: boolean;
  migrations: number;
}

function incomingOf(
  input: RoundInput,
  actions: readonly Action[],
  received: boolean,
  into: Map<string, Incoming>,
): void {
  const ct = (vmid: number) => input.snapshot.containers.find((c) => c.vmid === vmid);
  const at = (name: string): Incoming => {
    let n = into.get(name);
    if (!n) {
      const node = input.snapshot.nodes.find((x) => x.name === name);
      n = {
        memBytes: node?.mem ?? 0,
        cpuCores: (node?.cpu ?? 0) * (node?.maxcpu ?? 0),
        received: false,
        migrations: 0,
      };
      into.set(name, n);
    }
    return n;
  };
  for (const a of actions) {
    if (a.kind === 'migrate') {
      at(a.from).migrations++;
      at(a.to).migrations++;
      const c = ct(a.vmid);
      // A migration whose container already shows on its target is in the observation already.
      if (!c || c.node !== a.from) continue;
      const target = at(a.to);
      target.memBytes += c.maxmem;
      target.cpuCores += c.status === 'running' ? c.cpu * c.maxcpu : 0;
      if (received) target.received = true;
    } else if (a.kind === 'scale') {
      const c = ct(a.vmid);
      if (!c || a.memoryMiB === undefined) continue;
      const growth = a.memoryMiB * MiB - c.maxmem;
      if (growth <= 0) continue;
      const node = at(c.node);
      node.memBytes += growth;
      if (received) node.received = true;
    }
  }
}

describe('step over random proposals from several rules', () => {
  it('never overcommits a node that receives something, in memory or CPU', () => {
    fc.assert(
      fc.property(roundArb, (input) => {
        const { commands } = step(input);
        const inFlight = input.core.decisions.filter((d) => d.status === 'running').map((d) => d.action);
        const nodes = new Map<string, Incoming>();
        incomingOf(input, inFlight, false, nodes);
        incomingOf(
          input,
          commands.map((c) => c.action),
          true,
          nodes,
        );
        const { admissionShare, cpuShare } = input.settings;
        for (const [name, n] of nodes) {
          if (!n.received) continue;
          const node = input.snapshot.nodes.find((x) => x.name === name) as NodeState;
          expect(n.memBytes, `memory of ${name}`).toBeLessThanOrEqual(admissionShare * node.maxmem + 1);
          const cpuTarget = commands.some((c) => c.action.kind === 'migrate' && c.action.to === name);
          if (cpuTarget) {
            expect(n.cpuCores, `CPU of ${name}`).toBeLessThanOrEqual(cpuShare * node.maxcpu + 1e-9);
          }
        }
        // Nothing goes to a node that cannot take it.
        for (const { action } of commands) {
          if (action.kind !== 'migrate') continue;
          const to = input.snapshot.nodes.find((n) => n.name === action.to);
          expect(to?.status).toBe('online');
          expect(input.settings.drainedNodes).not.toContain(action.to);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never exceeds the global, per-kind or per-node budget, in flight included', () => {
    fc.assert(
      fc.property(roundArb, (input) => {
        const { commands } = step(input);
        const { maxConcurrent, maxPerKind, maxPerNode } = input.settings;
        const inFlight = input.core.decisions.filter((d) => d.status === 'running').map((d) => d.action);
        expect(commands.length).toBeLessThanOrEqual(Math.max(0, maxConcurrent - inFlight.length));
        for (const kind of ['migrate', 'drop', 'scale'] as const) {
          const limit = maxPerKind[kind];
          if (limit === undefined) continue;
          const running = inFlight.filter((a) => a.kind === kind).length;
          const planned = commands.filter((c) => c.action.kind === kind).length;
          expect(planned, kind).toBeLessThanOrEqual(Math.max(0, limit - running));
        }
        const before = new Map<string, Incoming>();
        incomingOf(input, inFlight, false, before);
        const after = new Map<string, Incoming>();
        incomingOf(
          input,
          commands.map((c) => c.action),
          true,
          after,
        );
        for (const [name, n] of after) {
          if (n.migrations === 0) continue;
          expect(n.migrations, `migrations at ${name}`).toBeLessThanOrEqual(
            Math.max(0, maxPerNode - (before.get(name)?.migrations ?? 0)),
          );
        }
        // One operation per container: no two commands, and none on a container in flight.
        const vmids = commands.map((c) => c.action.vmid);
        expect(new Set(vmids).size).toBe(vmids.length);
        const busy = new Set(inFlight.map((a) => (a.kind === 'provision' ? -1 : a.vmid)));
        for (const v of vmids) expect(busy.has(v)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('the generated rounds do start commands, so the properties are not vacuous', () => {
    let withCommands = 0;
    let refusedOrDeferred = 0;
    fc.assert(
      fc.property(roundArb, (input) => {
        const result = step(input);
        if (result.commands.length > 0) withCommands++;
        if (result.notes.some((n) => n.startsWith('not admitted') || n.includes('deferred')))
          refusedOrDeferred++;
      }),
      { numRuns: 300, seed: 9 },
    );
    expect(withCommands).toBeGreaterThan(60);
    expect(refusedOrDeferred).toBeGreaterThan(60);
  });
});
