// fleet-large: 50 nodes in 5 zones and 2,000 containers with mixed sizes and workload profiles,
// generated from the seed, for benchmarks and policy runs at scale, plus a few unmanaged QEMU VMs.
import { Rng } from '../rng.js';
import type { WorkloadSpec } from '../model/workload.js';
import { DEFAULT_EPOCH, TEMPLATES, localStorages, standardAccess } from './common.js';
import type { ContainerSpec, NodeSpec, ScenarioSpec, VmSpec } from './types.js';

export const FLEET_NODES = 50;
export const FLEET_CONTAINERS = 2000;
export const FLEET_VMS = 20;

/** fleet-large, or `fleet-<N>`: N containers on one node per 40 (the same density), for benchmarks. */
export function fleetLarge(seed: number, size = FLEET_CONTAINERS): ScenarioSpec {
  const rng = new Rng(seed ^ 0xf1ee7);
  const nodeCount = size === FLEET_CONTAINERS ? FLEET_NODES : Math.max(2, Math.ceil(size / 40));
  const nodes: NodeSpec[] = Array.from({ length: nodeCount }, (_, i) => ({
    name: `pve${String(i + 1).padStart(3, '0')}`,
    cpus: rng.pick([32, 48, 64]),
    memGiB: rng.pick([192, 256, 384]),
    rootfsGiB: 120,
    zone: `zone-${Math.floor(i / 10) + 1}`,
  }));
  const teams = ['api', 'web', 'batch', 'cache', 'db', 'dns', 'mail', 'search', 'queue', 'ml'];
  const containers: ContainerSpec[] = [];
  for (let i = 0; i < size; i++) {
    const vmid = 10000 + i;
    const team = teams[i % teams.length]!;
    // Skewed placement: low-numbered nodes get more, so balancing has something to do.
    const nodeIdx = Math.min(nodeCount - 1, Math.floor(Math.pow(rng.next(), 1.3) * nodeCount));
    const cores = rng.pick([1, 1, 2, 2, 2, 4, 4, 8]);
    const memoryMiB = rng.pick([512, 1024, 2048, 2048, 4096, 8192]);
    containers.push({
      vmid,
      node: nodes[nodeIdx]!.name,
      hostname: `${team}-${vmid}`,
      cores,
      memoryMiB,
      swapMiB: 512,
      diskGiB: rng.pick([8, 16, 32, 64]),
      diskUsedGiB: Math.round(rng.next() * 6 * 10) / 10 + 0.5,
      status: rng.next() < 0.92 ? 'running' : 'stopped',
      tags: ['fleet', team],
      pool: team,
      workload: workloadFor(rng, memoryMiB),
    });
  }
  // VMs after the containers, so adding them left the seeded containers as they were.
  const vms: VmSpec[] = Array.from({ length: FLEET_VMS }, (_, i) => {
    const memoryMiB = rng.pick([4096, 8192, 16384]);
    return {
      vmid: 9000 + i,
      node: nodes[(i * 7) % nodeCount]!.name,
      name: `vm-${9000 + i}`,
      cores: rng.pick([2, 4, 8]),
      memoryMiB,
      diskGiB: rng.pick([32, 64, 128]),
      status: i % 10 === 9 ? 'stopped' : 'running',
      tags: ['vm'],
      workload: {
        profile: 'steady',
        cpu: Math.round(rng.next() * 30) / 100,
        memMiB: Math.round(memoryMiB * 0.7),
      },
    };
  });
  return {
    name: size === FLEET_CONTAINERS ? 'fleet-large' : `fleet-${size}`,
    clusterName: 'fleet',
    epoch: DEFAULT_EPOCH,
    ...standardAccess(seed, 'fleet-root'),
    nodes,
    storages: localStorages(120, 7000),
    templates: TEMPLATES,
    pools: teams.map((poolid) => ({ poolid, comment: `team ${poolid}` })),
    managedRange: { min: 10000, max: 19999 },
    containers,
    vms,
  };
}

function workloadFor(rng: Rng, memoryMiB: number): WorkloadSpec {
  const profile = rng.pick([
    'idle',
    'steady',
    'steady',
    'spiky',
    'diurnal',
    'diurnal',
    'ramp',
    'leak',
  ] as const);
  const cpu = Math.round(rng.next() * 40) / 100;
  const memMiB = Math.round(memoryMiB * (0.2 + rng.next() * 0.5));
  switch (profile) {
    case 'idle':
      return { profile };
    case 'leak':
      return { profile, cpu, memMiB, leakMiBPerHour: Math.round(20 + rng.next() * 100) };
    case 'spiky':
    case 'diurnal':
    case 'ramp':
      return {
        profile,
        cpu,
        memMiB,
        peakCpu: Math.min(1, cpu * 2.5 + 0.1),
        peakMemMiB: Math.round(Math.min(memoryMiB * 0.95, memMiB * 1.6)),
      };
    default:
      return { profile, cpu, memMiB };
  }
}
