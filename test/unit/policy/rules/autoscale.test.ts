import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, ContainerState, NodeState } from '../../../../src/domain';
import {
  EMERGENCY_PRIORITY,
  assessAutoscale,
  autoscaleConfigSchema,
  autoscaleRule,
  effectiveSettings,
  withSamples,
} from '../../../../src/policy';
import { parseConfig } from '../../../../src/config';
import { MiB, NOW } from '../fixtures';
import { autoscale, box, host, rounds, settings, times, viewOf } from './autoscale-support';

function snap(containers: ContainerState[], nodes: NodeState[] = [host()]): ClusterSnapshot {
  return { takenAt: NOW, nodes, containers };
}

const scales = (r: { proposals: Array<{ action: unknown }> }) => r.proposals.map((p) => p.action);

describe('autoscale rule: thresholds', () => {
  it.each([
    ['CPU at 91 % of 2 cores', { cpu: 0.91 }, { cores: 3 }, 'CPU 91 % avg of 3 cycles ≥ 80 %: 2 → 3 cores'],
    [
      'CPU exactly at the up threshold',
      { cpu: 0.8 },
      { cores: 3 },
      'CPU 80 % avg of 3 cycles ≥ 80 %: 2 → 3 cores',
    ],
    [
      'memory at 90 % of its limit',
      { memMiB: 922 },
      { memoryMiB: 1536 },
      'memory 90 % avg of 3 cycles ≥ 85 %: 1024 → 1536 MiB',
    ],
    [
      'CPU low, window and now',
      { cpu: 0.1, cores: 3 },
      { cores: 2 },
      'CPU 10 % avg of 3 cycles and 10 % now < 30 %: 3 → 2 cores',
    ],
    [
      'memory low, window and now',
      { memMiB: 300, limitMiB: 2048 },
      { memoryMiB: 1536 },
      'memory 15 % avg of 3 cycles and 15 % now < 40 %: 2048 → 1536 MiB',
    ],
  ])('%s: one step, with the reason', (_what, opts, change, reason) => {
    const r = rounds(autoscale(), times(3, snap([box(1400, opts)])));
    expect(scales(r)).toEqual([{ kind: 'scale', vmid: 1400, node: 'pve1', ...change, reason }]);
  });

  it('scales both resources in one action when both pass', () => {
    const r = rounds(autoscale(), times(3, snap([box(1400, { cpu: 0.95, memMiB: 1000 })])));
    expect(scales(r)).toEqual([
      {
        kind: 'scale',
        vmid: 1400,
        node: 'pve1',
        cores: 3,
        memoryMiB: 1536,
        reason:
          'CPU 95 % avg of 3 cycles ≥ 80 %: 2 → 3 cores; memory 98 % avg of 3 cycles ≥ 85 %: 1024 → 1536 MiB',
      },
    ]);
  });

  it('scales up on one resource while the other goes down', () => {
    const r = rounds(autoscale(), times(3, snap([box(1400, { cpu: 0.9, memMiB: 600, limitMiB: 2048 })])));
    expect(scales(r)).toMatchObject([{ cores: 3, memoryMiB: 1536 }]);
  });

  it.each([
    ['just under the up threshold', { cpu: 0.79 }],
    ['at the down threshold (not under it)', { cpu: 0.3, cores: 3 }],
    ['memory between the thresholds', { memMiB: 800 }],
    ['memory at the down threshold', { memMiB: 410 }],
  ])('does nothing in the hysteresis band: %s', (_what, opts) => {
    const r = rounds(autoscale(), times(3, snap([box(1400, opts)])));
    expect(r.proposals).toEqual([]);
  });

  it('waits for a full window before acting', () => {
    const hot = snap([box(1400, { cpu: 0.95 })]);
    expect(rounds(autoscale(), times(2, hot)).proposals).toEqual([]);
    expect(rounds(autoscale(), times(3, hot)).proposals).toHaveLength(1);
  });

  it('acts on the window average, not on one hot sample', () => {
    const cycles = [0.95, 0.5, 0.5].map((cpu) => snap([box(1400, { cpu })]));
    expect(rounds(autoscale(), cycles).proposals).toEqual([]);
  });

  it('scales down only when the current value is low too', () => {
    // Window average 20 %, but the container is busy again now.
    const cycles = [0.05, 0.05, 0.5].map((cpu) => snap([box(1400, { cpu, cores: 3 })]));
    expect(rounds(autoscale(), cycles).proposals).toEqual([]);
    const quiet = [0.05, 0.05, 0.1].map((cpu) => snap([box(1400, { cpu, cores: 3 })]));
    expect(scales(rounds(autoscale(), quiet))).toMatchObject([{ cores: 2 }]);
  });

  it('uses the window percentile when one is configured', () => {
    const cycles = [0.5, 0.5, 0.95].map((cpu) => snap([box(1400, { cpu })]));
    expect(rounds(autoscale(), cycles).proposals).toEqual([]);
    const r = rounds(autoscale({ percentile: 90 }), cycles);
    expect(scales(r)).toMatchObject([{ cores: 3, reason: 'CPU 95 % p90 of 3 cycles ≥ 80 %: 2 → 3 cores' }]);
  });

  it('does not scale down so far that the current use would pass the up threshold', () => {
    // 2 cores at 29 %: 1 core would run at 58 %, fine; 2 → 1 with up at 50 % would flap.
    const r = rounds(autoscale({ cpuUpPercent: 50 }), times(3, snap([box(1400, { cpu: 0.29 })])));
    expect(r.proposals).toEqual([]);
  });
});

describe('autoscale rule: limits and steps', () => {
  it('adds nothing past maxCores and says so', () => {
    const r = rounds(autoscale({ maxCores: 2 }), times(3, snap([box(1400, { cpu: 0.95 })])));
    expect(r.proposals).toEqual([]);
    expect(r.notes).toEqual(['CT 1400: CPU 95 % avg of 3 cycles ≥ 80 %, but it has maxCores (2) already']);
  });

  it('a memory leak at maxMemoryMiB gets a note an alert can match', () => {
    const r = rounds(autoscale({ maxMemoryMiB: 1024 }), times(3, snap([box(1400, { memMiB: 950 })])));
    expect(r.proposals).toEqual([]);
    expect(r.notes).toEqual([
      'CT 1400: memory 93 % avg of 3 cycles ≥ 85 %, but it has maxMemoryMiB (1024) already',
    ]);
  });

  it('clamps a step to the limits', () => {
    const up = rounds(autoscale({ coreStep: 4 }), times(3, snap([box(1400, { cpu: 0.95, cores: 6 })])));
    expect(scales(up)).toMatchObject([{ cores: 8 }]);
    const down = rounds(autoscale(), times(3, snap([box(1400, { memMiB: 100, limitMiB: 768 })])));
    expect(scales(down)).toMatchObject([{ memoryMiB: 512 }]);
  });

  it('a scale-up of a container below its minimum lands at the minimum, not one step up', () => {
    // Found by the [min, max] property: 256 + 128 MiB was proposed under a 512 MiB minimum.
    const r = rounds(
      autoscale({ memoryStepMiB: 128 }),
      times(3, snap([box(1400, { memMiB: 230, limitMiB: 256 })])),
    );
    expect(scales(r)).toMatchObject([{ memoryMiB: 512 }]);
  });

  it('never goes below minCores or minMemoryMiB', () => {
    const r = rounds(
      autoscale(),
      times(3, snap([box(1400, { cpu: 0.01, cores: 1, memMiB: 50, limitMiB: 512 })])),
    );
    expect(r.proposals).toEqual([]);
  });

  it('uses the configured steps', () => {
    const r = rounds(
      autoscale({ coreStep: 2, memoryStepMiB: 256 }),
      times(3, snap([box(1400, { cpu: 0.95, memMiB: 1000 })])),
    );
    expect(scales(r)).toMatchObject([{ cores: 4, memoryMiB: 1280 }]);
  });

  it('brings a container above its maximum back into range rather than further up', () => {
    const r = rounds(autoscale(), times(3, snap([box(1400, { cpu: 0.95, cores: 12 })])));
    expect(r.proposals).toEqual([]);
    expect(r.notes[0]).toContain('maxCores (8) already');
  });
});

describe('autoscale rule: cooldown', () => {
  it('leaves a container alone for cooldownSeconds after its limits changed, then goes on', () => {
    const config = autoscale();
    const before = rounds(config, times(3, snap([box(1400, { cpu: 0.95 })])));
    // The scale went through: the next observations show 3 cores, still hot.
    const hot3 = snap([box(1400, { cpu: 0.95, cores: 3 })]);
    const cooling = rounds(config, times(5, hot3), { state: before.state, start: before.now + 10_000 });
    expect(cooling.proposals).toEqual([]);
    const changedAt = Math.floor((before.now + 10_000) / 1000);
    expect(cooling.state.w['1400']?.t).toBe(changedAt);
    const report = assessAutoscale(viewOf(hot3, cooling.now), config, cooling.state).reports[0];
    expect(report?.why).toMatch(
      /^would scale \(CPU 95 % avg of 3 cycles ≥ 80 %: 3 → 4 cores\) but is cooling down, 2[0-9]{2} s left$/,
    );
    const after = rounds(config, times(1, hot3), { state: cooling.state, start: (changedAt + 300) * 1000 });
    expect(scales(after)).toMatchObject([{ cores: 4 }]);
  });

  it('starts the window afresh when the limits change (old percents were of other limits)', () => {
    const config = autoscale({ cooldownSeconds: 0 });
    const before = rounds(config, times(3, snap([box(1400, { cpu: 0.95 })])));
    const next = rounds(config, times(2, snap([box(1400, { cpu: 0.95, cores: 3 })])), {
      state: before.state,
      start: before.now + 10_000,
    });
    expect(next.state.w['1400']?.c).toEqual([95, 95]);
    expect(next.proposals).toEqual([]);
  });
});

describe('autoscale rule: overrides', () => {
  const overrides = [
    { pool: 'web', maxCores: 2, cpuUpPercent: 70 },
    { tag: 'db', maxCores: 4 },
    { vmid: 1400, maxCores: 6 },
  ];
  const config = autoscale({ overrides });
  const withIds = (vmid: number, pool?: string, tags: string[] = []) => ({
    vmid,
    tags,
    ...(pool === undefined ? {} : { pool }),
  });

  it.each([
    ['vmid over tag over pool', withIds(1400, 'web', ['db']), 6],
    ['tag over pool', withIds(1401, 'web', ['db']), 4],
    ['pool alone', withIds(1402, 'web'), 2],
    ['no override', withIds(1403), 8],
  ])('the most specific wins: %s', (_what, ct, maxCores) => {
    const eff = effectiveSettings(ct, config);
    expect('t' in eff && eff.t.maxCores).toBe(maxCores);
  });

  it('layers the overrides: a setting the more specific one leaves out comes from the next', () => {
    const eff = effectiveSettings(withIds(1400, 'web', ['db']), config);
    expect('t' in eff && eff.t.cpuUpPercent).toBe(70);
  });

  it('an override may disable autoscaling, and a more specific one enable it again', () => {
    const c = autoscale({
      overrides: [
        { tag: 'db', enabled: false },
        { vmid: 1401, enabled: true },
      ],
    });
    const hot = (vmid: number) => box(vmid, { cpu: 0.95, extra: { tags: ['db'] } });
    const r = rounds(c, times(3, snap([hot(1400), hot(1401)])));
    expect(scales(r)).toMatchObject([{ vmid: 1401, cores: 3 }]);
    const report = assessAutoscale(viewOf(snap([hot(1400)]), r.now), c, r.state).reports[0];
    expect(report?.why).toBe('autoscaling is disabled for it by the override of tag db');
  });

  it('a disabled container is not shrunk in an emergency either', () => {
    const c = autoscale({ overrides: [{ vmid: 1400, enabled: false }] });
    const r = rounds(c, [
      snap([box(1400, { memMiB: 100, limitMiB: 4096 })], [host('pve1', { usedGiB: 31.8 })]),
    ]);
    expect(r.proposals).toEqual([]);
    expect(r.notes).toEqual([expect.stringContaining('none of its managed containers can give memory back')]);
  });

  it('acts on the thresholds of the override', () => {
    const web = box(1402, { cpu: 0.75, cores: 1, extra: { pool: 'web' } });
    expect(scales(rounds(config, times(3, snap([web]))))).toMatchObject([{ vmid: 1402, cores: 2 }]);
    expect(rounds(autoscale(), times(3, snap([web]))).proposals).toEqual([]);
  });
});

describe('autoscale rule: which containers', () => {
  it('never scales a stopped container', () => {
    const stopped = box(1400, { cpu: 0, memMiB: 0, extra: { status: 'stopped', uptime: 0 } });
    const r = rounds(autoscale(), times(3, snap([stopped])));
    expect(r.proposals).toEqual([]);
    expect(r.state.w).toEqual({});
  });

  it('never scales a container outside the scope, or one the round does not offer', () => {
    const outside = box(1300, { cpu: 0.95 });
    expect(rounds(autoscale(), times(3, snap([outside]))).proposals).toEqual([]);
    const config = autoscale();
    const r = rounds(config, times(3, snap([box(1400, { cpu: 0.95 })])));
    const view = { ...viewOf(snap([box(1400, { cpu: 0.95 })]), r.now), actionable: [] };
    expect(autoscaleRule.evaluate(view, config, r.state).proposals).toEqual([]);
  });

  it('does nothing when disabled (the core skips a disabled rule; the default is off)', () => {
    expect(autoscaleConfigSchema.parse({}).enabled).toBe(false);
    expect(parseConfig('', {}).autoscale.enabled).toBe(false);
  });

  it('forgets containers that are gone, and keeps at most evaluationPeriods samples', () => {
    let state = autoscaleRule.initialState();
    for (let i = 0; i < 6; i++)
      state = withSamples(state, snap([box(1400), box(1401)]), settings.scope, 3, NOW);
    expect(state.w['1400']?.c).toHaveLength(3);
    state = withSamples(state, snap([box(1401)]), settings.scope, 3, NOW);
    expect(Object.keys(state.w)).toEqual(['1401']);
  });

  it('keeps its state under 75 bytes a container for 10,000 containers', () => {
    const cts = Array.from({ length: 10_000 }, (_, i) =>
      box(10_000 + i, { cpu: (i % 100) / 100, memMiB: 100 + (i % 900), cores: 1 + (i % 8) }),
    );
    const scope = { vmidMin: 10_000, vmidMax: 19_999 };
    let state = autoscaleRule.initialState();
    for (let i = 0; i < 5; i++) state = withSamples(state, snap(cts), scope, 3, NOW + i * 10_000);
    expect(JSON.stringify(state).length / 10_000).toBeLessThan(75);
  });
});

describe('autoscale rule: host protection', () => {
  it('no memory scale-up past hostMaxMemoryPercent of the node', () => {
    // 30 of 32 GiB used (93.75 %); 512 MiB more is 95.3 %.
    const r = rounds(
      autoscale(),
      times(3, snap([box(1400, { memMiB: 1000 })], [host('pve1', { usedGiB: 30 })])),
    );
    expect(r.proposals).toEqual([]);
    expect(r.notes).toEqual([
      'CT 1400: memory 98 % avg of 3 cycles ≥ 85 %: 1024 → 1536 MiB, but pve1 would use 95.3 % of its memory, over hostMaxMemoryPercent (95 %)',
    ]);
  });

  it('no core added past hostMaxCpuPercent, but the memory step still goes', () => {
    // 15 of 16 cores busy: one more core is 100 %.
    const r = rounds(
      autoscale(),
      times(3, snap([box(1400, { cpu: 0.95, memMiB: 1000 })], [host('pve1', { cpu: 15 / 16 })])),
    );
    expect(scales(r)).toEqual([expect.objectContaining({ memoryMiB: 1536 })]);
    expect(scales(r)[0]).not.toHaveProperty('cores');
    expect(r.notes[0]).toContain('over hostMaxCpuPercent (95 %)');
  });

  it('counts its own earlier proposals of the round against the node', () => {
    // 29 GiB used: room for exactly two 512 MiB steps under 95 % (30.4 GiB).
    const hot = (vmid: number) => box(vmid, { memMiB: 1000 });
    const r = rounds(
      autoscale({ maxConcurrent: 8 }),
      times(3, snap([hot(1400), hot(1401), hot(1402)], [host('pve1', { usedGiB: 29 })])),
    );
    expect(scales(r).map((a) => (a as { vmid: number }).vmid)).toEqual([1400, 1401]);
    expect(r.notes).toEqual([expect.stringContaining('CT 1402: memory')]);
  });
});

describe('autoscale rule: emergencies and OOM', () => {
  it('shrinks the slackest containers of a node past the emergency limit first, at once', () => {
    // 31.8 of 32 GiB used (99.4 %): 0.44 GiB over 98 %.
    const cts = [
      box(1400, { memMiB: 900, limitMiB: 1024 }),
      box(1401, { memMiB: 200, limitMiB: 4096 }),
      box(1402, { memMiB: 500, limitMiB: 2048 }),
    ];
    const r = rounds(autoscale(), [snap(cts, [host('pve1', { usedGiB: 31.8 })])]);
    expect(r.proposals).toEqual([
      {
        priority: EMERGENCY_PRIORITY,
        action: {
          kind: 'scale',
          vmid: 1401,
          node: 'pve1',
          memoryMiB: 712,
          reason:
            'pve1 uses 99 % of its memory, over the 98 % emergency limit: CT 1401 has the most unused memory ' +
            '(3896 MiB): 4096 → 712 MiB (uses 200 MiB, kept 512 MiB above it)',
        },
      },
    ]);
  });

  it('goes on to the next slackest until the excess is covered, and bypasses the cooldown', () => {
    const cts = [box(1400, { memMiB: 400, limitMiB: 1024 }), box(1401, { memMiB: 300, limitMiB: 1024 })];
    // 16 GiB: 98 % is 15.68 GiB; 15.8 GiB used is 123 MiB over, 15.95 GiB is 276 MiB over.
    const full = host('pve1', { memGiB: 16, usedGiB: 15.8 });
    const before = rounds(autoscale(), [
      snap(
        cts.map((c) => ({ ...c, maxmem: 1536 * MiB })),
        [full],
      ),
    ]);
    // Both just had their limits changed (cooldown running); the node is still over 98 %.
    const r = rounds(autoscale(), [snap(cts, [full])], { state: before.state, start: before.now + 10_000 });
    expect(
      r.proposals.map((p) => [
        (p.action as { vmid: number }).vmid,
        (p.action as { memoryMiB: number }).memoryMiB,
      ]),
    ).toEqual([[1401, 812]]);
    const tighter = host('pve1', { memGiB: 16, usedGiB: 15.95 });
    const both = rounds(autoscale(), [snap(cts, [tighter])], {
      state: before.state,
      start: before.now + 10_000,
    });
    expect(both.proposals.map((p) => (p.action as { vmid: number }).vmid)).toEqual([1401, 1400]);
  });

  it('never shrinks below the use plus one step, nor below minMemoryMiB', () => {
    const cts = [box(1400, { memMiB: 10, limitMiB: 1024 })];
    const r = rounds(autoscale({ minMemoryMiB: 768 }), [snap(cts, [host('pve1', { usedGiB: 31.8 })])]);
    expect(scales(r)).toMatchObject([{ memoryMiB: 768 }]);
  });

  it('bumps a container at its memory limit one step at once, ahead of its window', () => {
    const r = rounds(autoscale(), [snap([box(1400, { memMiB: 1024 })])]);
    expect(r.proposals).toEqual([
      {
        priority: EMERGENCY_PRIORITY,
        action: expect.objectContaining({ vmid: 1400, memoryMiB: 1536 }),
      },
    ]);
    expect(
      (r.proposals[0]?.action.reason ?? '').startsWith(
        'memory at its limit (100 % of 1024 MiB), a sign of OOM',
      ),
    ).toBe(true);
    expect(r.state.oom['1400']).toEqual([1024, Math.floor(NOW / 1000) + 3600]);
  });

  it('keeps an OOM’d container above its peak plus one step for an hour', () => {
    const config = autoscale({ cooldownSeconds: 0 });
    const bumped = rounds(config, [snap([box(1400, { memMiB: 1024 })])]);
    // Now quiet at 1536 MiB: the floor is 1024 + 512, so no shrink for an hour.
    const quiet = snap([box(1400, { memMiB: 100, limitMiB: 1536 })]);
    const within = rounds(config, times(4, quiet), { state: bumped.state, start: bumped.now + 10_000 });
    expect(within.proposals).toEqual([]);
    const later = rounds(config, times(4, quiet), { state: within.state, start: bumped.now + 3_601_000 });
    expect(scales(later)).toMatchObject([{ memoryMiB: 1024 }]);
    expect(later.state.oom).toEqual({});
  });
});

describe('autoscale config', () => {
  const problems = (yaml: string) => {
    try {
      parseConfig(yaml, {});
    } catch (err) {
      return (err as { problems: Array<{ path: string; message: string }> }).problems;
    }
    return [];
  };

  it.each([
    ['autoscale: { cpuDownPercent: 80 }', 'autoscale.cpuDownPercent', 'expected less than cpuUpPercent (80)'],
    ['autoscale: { maxCores: 0 }', 'autoscale.maxCores', 'expected an integer between 1 and 8192'],
    ['autoscale: { minMemoryMiB: 9000 }', 'autoscale.maxMemoryMiB', 'expected at least minMemoryMiB (9000)'],
    [
      'autoscale: { overrides: [{ maxCores: 2 }] }',
      'autoscale.overrides[0]',
      'expected exactly one of vmid, pool or tag',
    ],
    [
      'autoscale: { overrides: [{ tag: db, minCores: 9 }] }',
      'autoscale.overrides[0].maxCores',
      'expected at least minCores (9)',
    ],
    ['autoscale: { overrides: [{ tag: db, cpuUp: 9 }] }', 'autoscale.overrides[0]', 'unknown'],
    ['autoscale: { percentile: 0 }', 'autoscale.percentile', 'expected an integer between 1 and 100'],
  ])('rejects %s at %s', (yaml, path, message) => {
    const found = problems(yaml);
    expect(found.some((p) => p.path.startsWith(path) && p.message.includes(message))).toBe(true);
  });

  it('maps maxConcurrent onto the manager’s per-kind budget for scale while enabled', async () => {
    const { coreSettingsOf } = await import('../../../../src/config');
    expect(
      coreSettingsOf(parseConfig('autoscale: { enabled: true, maxConcurrent: 3 }', {})).maxPerKind,
    ).toEqual({
      scale: 3,
    });
    expect(coreSettingsOf(parseConfig('autoscale: { maxConcurrent: 3 }', {})).maxPerKind).toEqual({});
    const both = 'manager: { maxPerKind: { scale: 1 } }\nautoscale: { enabled: true, maxConcurrent: 3 }';
    expect(coreSettingsOf(parseConfig(both, {})).maxPerKind).toEqual({ scale: 1 });
  });
});

describe('the README’s worked example', () => {
  it('adds a core at 91 % and takes it back at 10 %, memory untouched', () => {
    const config = autoscale();
    const at = (cpu: number, cores: number) =>
      snap([box(1401, { cpu, cores, limitMiB: 2048, memMiB: 900, node: 'srv-px1' })], [host('srv-px1')]);
    const up = rounds(config, [at(0.88, 2), at(0.93, 2), at(0.92, 2)]);
    expect(scales(up)).toEqual([
      {
        kind: 'scale',
        vmid: 1401,
        node: 'srv-px1',
        cores: 3,
        reason: 'CPU 91 % avg of 3 cycles ≥ 80 %: 2 → 3 cores',
      },
    ]);
    const busy = rounds(config, times(6, at(0.61, 3)), { state: up.state, start: up.now + 10_000 });
    expect(busy.proposals).toEqual([]);
    const quiet = rounds(config, [at(0.12, 3), at(0.09, 3), at(0.1, 3)], {
      state: busy.state,
      start: up.now + 3_600_000,
    });
    expect(scales(quiet)).toEqual([
      {
        kind: 'scale',
        vmid: 1401,
        node: 'srv-px1',
        cores: 2,
        reason: 'CPU 10 % avg of 3 cycles and 10 % now < 30 %: 3 → 2 cores',
      },
    ]);
  });
});

describe('the projected cluster with scale-ups', () => {
  it('counts a scale’s added cores as used, so a later move cannot spend the same CPU', async () => {
    const { admissionProblem, applyAction, projectCluster } = await import('../../../../src/policy');
    // pve2: 16 cores, 12 busy; the CPU admission limit is 90 % = 14.4 cores.
    const nodes = [host('pve1'), host('pve2', { cpu: 12 / 16 })];
    const cts = [
      box(1400, { node: 'pve2', cores: 2, cpu: 1 }),
      box(1401, { node: 'pve1', cores: 2, cpu: 1 }),
    ];
    const move = { kind: 'migrate' as const, vmid: 1401, from: 'pve1', to: 'pve2', reason: 'test' };
    const plain = projectCluster(snap(cts, nodes), settings, []);
    expect(admissionProblem(plain, move)).toBeNull();
    const scaled = projectCluster(snap(cts, nodes), settings, []);
    applyAction(scaled, { kind: 'scale', vmid: 1400, node: 'pve2', cores: 4, reason: 'test' });
    expect(admissionProblem(scaled, move)).toBe(
      'pve2 would use 100.0 % of its CPU, above the 90.0 % admission limit',
    );
  });
});
