// `pve-autopilot plan` and `autoscale status` with autoscaling on, end to end: one container of
// lab-2node pinned hot; the others quiet within the thresholds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { cliWorld, type CliWorld } from './support/cli';

const HOT = 1401;

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv();
  await s.run(async () => undefined);
  // Down thresholds of 5 % keep lab-2node's quiet containers where they are: one hot container,
  // one action. A window of one cycle lets `plan` decide from a fresh state.
  w = await cliWorld(
    s.sim.sim,
    s.taskQueue,
    [
      'manager: { cycleSeconds: 1 }',
      'lab: { enabled: false }',
      'autoscale:',
      '  enabled: true',
      '  evaluationPeriods: 1',
      '  cpuDownPercent: 5',
      '  memoryDownPercent: 5',
      '',
    ].join('\n'),
  );
  await s.sim.admin('PUT', `/_sim/containers/${HOT}/usage`, { cpu: 0.95 });
});
afterAll(async () => {
  await s?.teardown();
});

interface Planned {
  rule: string;
  action: { kind: string; vmid: number; cores?: number };
  reason: string;
}

describe('pve-autopilot with autoscaling', () => {
  it('plan --json lists exactly one scale action, for the hot container, with its reason', async () => {
    const run = await w.cli(['plan', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { actions: Planned[]; rules: Array<{ name: string }> };
    // The affinity rule is on by default; with no affinity rules it proposes nothing.
    expect(doc.rules.map((r) => r.name)).toEqual(['autoscale', 'affinity']);
    expect(doc.actions).toEqual([
      expect.objectContaining({
        rule: 'autoscale',
        action: expect.objectContaining({ kind: 'scale', vmid: HOT, cores: 3 }) as unknown,
        reason: expect.stringMatching(/^CPU (9\d|100) % avg of 1 cycles ≥ 80 %: 2 → 3 cores$/) as unknown,
      }),
    ]);
  });

  it('autoscale status shows each managed container, its target and why, from the running manager', async () => {
    const refused = await w.cli(['autoscale', 'status']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('is not running');

    const started = await w.cli(['manager', 'start', '--automation', 'recommend', '--seed', '1']);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('rules: autoscale');
    const handle = s.env.client.workflow.getHandle(`cluster-manager-${w.cluster}`);
    await s.run(async () => {
      for (;;) {
        const st = await handle.query<{ cycle: number }>('managerStatus');
        if (st.cycle >= 2) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    });

    const json = await w.cli(['autoscale', 'status', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      enabled: boolean;
      containers: Array<{
        vmid: number;
        status: string;
        cores: number;
        targetCores: number;
        cpuPercent: number | null;
        why: string;
      }>;
    };
    expect(doc.enabled).toBe(true);
    expect(doc.containers.map((c) => c.vmid)).toEqual([1400, 1401, 1402, 1403]);
    const hot = doc.containers.find((c) => c.vmid === HOT);
    expect(hot).toMatchObject({ cores: 2, targetCores: 3 });
    expect(hot?.cpuPercent).toBeGreaterThanOrEqual(80);
    // The hot profile runs at 90-100 % of its cores (100 when its noise hits the cap).
    expect(hot?.why).toMatch(/^CPU (9\d|100) % avg of 1 cycles ≥ 80 %: 2 → 3 cores$/);
    expect(doc.containers.find((c) => c.vmid === 1403)).toMatchObject({
      status: 'stopped',
      why: 'stopped: a stopped container is never scaled',
    });
    expect(doc.containers.find((c) => c.vmid === 1402)?.why).toBe('within thresholds');

    const human = await w.cli(['autoscale', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^Autoscaling in cluster \S+: on \(cycle \d+, observation of \d\d:\d\d:\d\d UTC\)\n/,
    );
    expect(human.stdout).toMatch(/VMID +NODE +CORES +MEMORY MiB +CPU % +MEM % +COOLDOWN +WHY\n/);
    expect(human.stdout).toMatch(
      new RegExp(`\\n${HOT} +srv-px1 +2 → 3 +512 +(9\\d|100) +\\d+ +- +CPU (9\\d|100) %`),
    );

    const stopped = await w.cli(['manager', 'stop']);
    expect(stopped.code).toBe(0);
  });
});
