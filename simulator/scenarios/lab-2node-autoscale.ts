// lab-2node-autoscale: lab-2node with workloads that autoscaling answers within a minute of the
// start: web-1401 on a ramp to 95 % of its cores (the scenario's containers have been up an hour or
// more, so the ramp has reached its peak: it gets a core at once, then one more after each cooldown
// up to maxCores), and cache-1404 leaking memory past its limit (it gets memory step by step up to
// maxMemoryMiB, then a note).
import { lab2node } from './lab-2node.js';
import type { ScenarioSpec } from './types.js';

export function lab2nodeAutoscale(seed: number): ScenarioSpec {
  const base = lab2node(seed);
  return {
    ...base,
    name: 'lab-2node-autoscale',
    containers: [
      ...base.containers.map((ct) =>
        ct.vmid === 1401
          ? {
              ...ct,
              workload: { profile: 'ramp' as const, cpu: 0.1, peakCpu: 0.95, rampSeconds: 600, memMiB: 150 },
            }
          : ct.vmid === 1402
            ? // Between the thresholds (lab-2node's 25 % would be scaled down), so the two above stand out.
              { ...ct, workload: { profile: 'steady' as const, cpu: 0.45, memMiB: 350 } }
            : ct,
      ),
      {
        vmid: 1404,
        node: 'srv-px2',
        hostname: 'cache-1404',
        cores: 1,
        memoryMiB: 512,
        swapMiB: 512,
        diskGiB: 8,
        status: 'running',
        pool: 'autopilot',
        tags: ['autopilot', 'cache'],
        workload: { profile: 'leak', cpu: 0.1, memMiB: 300, leakMiBPerHour: 200 },
      },
    ],
  };
}
