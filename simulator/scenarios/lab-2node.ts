// lab-2node: two nodes in the spirit of the INSA lab (srv-px1, srv-px2), a Debian template, a few
// unmanaged service containers and the managed vmid range 1400-1499.
import { DEFAULT_EPOCH, TEMPLATES, localStorages, standardAccess } from './common.js';
import type { ContainerSpec, ScenarioSpec } from './types.js';

export function lab2node(seed: number): ScenarioSpec {
  const ct = (
    c: Partial<ContainerSpec> & Pick<ContainerSpec, 'vmid' | 'node' | 'hostname'>,
  ): ContainerSpec => ({
    cores: 2,
    memoryMiB: 2048,
    swapMiB: 512,
    diskGiB: 8,
    status: 'running',
    ...c,
  });
  return {
    name: 'lab-2node',
    clusterName: 'insa-lab',
    epoch: DEFAULT_EPOCH,
    ...standardAccess(seed, 'insa-lab-root'),
    nodes: [
      { name: 'srv-px1', cpus: 16, memGiB: 32, rootfsGiB: 94 },
      { name: 'srv-px2', cpus: 16, memGiB: 32, rootfsGiB: 94 },
    ],
    storages: localStorages(94, 800),
    templates: TEMPLATES,
    pools: [
      { poolid: 'autopilot', comment: 'containers managed by pve-autopilot' },
      { poolid: 'lab', comment: 'lab services' },
    ],
    managedRange: { min: 1400, max: 1499 },
    containers: [
      ct({
        vmid: 100,
        node: 'srv-px1',
        hostname: 'gateway',
        cores: 1,
        memoryMiB: 512,
        diskGiB: 4,
        pool: 'lab',
        workload: { profile: 'steady', cpu: 0.05, memMiB: 180 },
      }),
      ct({
        vmid: 101,
        node: 'srv-px2',
        hostname: 'monitoring',
        memoryMiB: 4096,
        diskGiB: 32,
        pool: 'lab',
        workload: { profile: 'steady', cpu: 0.2, memMiB: 1800 },
      }),
      // The managed containers are small, as in the lab before the generator runs: 1 GiB on each
      // node (3 % of 32 GiB), well under the 8 % migrate threshold. The generator's 66/33 weights
      // then fill srv-px1 first, and the manager moves containers to srv-px2 while it has room.
      ct({
        vmid: 1400,
        node: 'srv-px1',
        hostname: 'web-1400',
        memoryMiB: 512,
        pool: 'autopilot',
        tags: ['autopilot', 'web'],
        workload: { profile: 'diurnal', cpu: 0.1, peakCpu: 0.6, memMiB: 200, peakMemMiB: 400 },
      }),
      ct({
        vmid: 1401,
        node: 'srv-px1',
        hostname: 'web-1401',
        memoryMiB: 512,
        pool: 'autopilot',
        tags: ['autopilot', 'web'],
        workload: { profile: 'spiky', cpu: 0.08, peakCpu: 0.9, memMiB: 150 },
      }),
      ct({
        vmid: 1402,
        node: 'srv-px2',
        hostname: 'db-1402',
        cores: 2,
        memoryMiB: 512,
        diskGiB: 20,
        pool: 'autopilot',
        tags: ['autopilot', 'db'],
        workload: { profile: 'steady', cpu: 0.25, memMiB: 350 },
      }),
      ct({
        vmid: 1403,
        node: 'srv-px2',
        hostname: 'worker-1403',
        cores: 1,
        memoryMiB: 512,
        pool: 'autopilot',
        tags: ['autopilot'],
        status: 'stopped',
        workload: { profile: 'ramp', cpu: 0.1, peakCpu: 0.8, memMiB: 100, peakMemMiB: 400 },
      }),
    ],
  };
}
