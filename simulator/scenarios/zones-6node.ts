// zones-6node: three failure zones of two nodes each, pools dns, mail and web whose members are
// placed unevenly (work for a spreading policy), on top of unmanaged infrastructure containers and
// QEMU VMs (one HA-managed, held in zone c by an HA rule).
import { DEFAULT_EPOCH, TEMPLATES, localStorages, standardAccess } from './common.js';
import type { ContainerSpec, NodeSpec, ScenarioSpec } from './types.js';

export function zones6node(seed: number): ScenarioSpec {
  const nodes: NodeSpec[] = ['a', 'b', 'c'].flatMap((z) =>
    [1, 2].map((i) => ({ name: `pve-${z}${i}`, cpus: 32, memGiB: 128, rootfsGiB: 100, zone: `zone-${z}` })),
  );
  const c = (
    vmid: number,
    node: string,
    hostname: string,
    pool: string,
    extra: Partial<ContainerSpec> = {},
  ): ContainerSpec => ({
    vmid,
    node,
    hostname,
    pool,
    cores: 2,
    memoryMiB: 2048,
    swapMiB: 512,
    diskGiB: 10,
    status: 'running',
    tags: ['autopilot', pool],
    workload: { profile: 'steady', cpu: 0.15, memMiB: 700 },
    ...extra,
  });
  return {
    name: 'zones-6node',
    clusterName: 'zones',
    epoch: DEFAULT_EPOCH,
    ...standardAccess(seed, 'zones-root'),
    nodes,
    storages: [
      ...localStorages(100, 1800),
      { id: 'ceph-ct', type: 'rbd', content: ['images', 'rootdir'], shared: true, totalGiB: 12000 },
    ],
    templates: TEMPLATES,
    pools: [
      { poolid: 'dns', comment: 'resolvers, one per zone' },
      { poolid: 'mail', comment: 'mail relays' },
      { poolid: 'web', comment: 'web frontends' },
    ],
    managedRange: { min: 1000, max: 1999 },
    containers: [
      c(1001, 'pve-a1', 'dns-1', 'dns', {
        cores: 1,
        memoryMiB: 1024,
        workload: { profile: 'steady', cpu: 0.05, memMiB: 300 },
      }),
      c(1002, 'pve-a2', 'dns-2', 'dns', {
        cores: 1,
        memoryMiB: 1024,
        workload: { profile: 'steady', cpu: 0.05, memMiB: 300 },
      }),
      c(1003, 'pve-b1', 'dns-3', 'dns', {
        cores: 1,
        memoryMiB: 1024,
        workload: { profile: 'steady', cpu: 0.05, memMiB: 300 },
      }),
      c(1101, 'pve-b1', 'mail-1', 'mail', {
        workload: { profile: 'spiky', cpu: 0.1, peakCpu: 0.7, memMiB: 900 },
      }),
      c(1102, 'pve-b2', 'mail-2', 'mail', {
        workload: { profile: 'spiky', cpu: 0.1, peakCpu: 0.7, memMiB: 900 },
      }),
      ...[1, 2, 3, 4, 5, 6].map((i) =>
        c(1200 + i, i <= 4 ? 'pve-c1' : 'pve-c2', `web-${i}`, 'web', {
          cores: 4,
          memoryMiB: 4096,
          storage: 'ceph-ct',
          workload: { profile: 'diurnal', cpu: 0.1, peakCpu: 0.7, memMiB: 1200, peakMemMiB: 2600 },
        }),
      ),
      {
        vmid: 300,
        node: 'pve-a1',
        hostname: 'backup-proxy',
        cores: 4,
        memoryMiB: 8192,
        swapMiB: 1024,
        diskGiB: 64,
        status: 'running',
        workload: { profile: 'steady', cpu: 0.3, memMiB: 5000 },
      },
      {
        vmid: 301,
        node: 'pve-c2',
        hostname: 'ci-runner',
        cores: 8,
        memoryMiB: 16384,
        swapMiB: 0,
        diskGiB: 100,
        status: 'running',
        workload: { profile: 'leak', cpu: 0.4, memMiB: 3000, leakMiBPerHour: 400 },
      },
    ],
    vms: [
      {
        vmid: 400,
        node: 'pve-b2',
        name: 'win-dc',
        cores: 4,
        memoryMiB: 8192,
        diskGiB: 80,
        status: 'running',
        tags: ['infra'],
        workload: { profile: 'steady', cpu: 0.1, memMiB: 6000 },
      },
      {
        vmid: 401,
        node: 'pve-c1',
        name: 'gitlab',
        cores: 8,
        memoryMiB: 16384,
        diskGiB: 200,
        storage: 'ceph-ct',
        status: 'running',
        ha: true,
        workload: { profile: 'diurnal', cpu: 0.15, peakCpu: 0.5, memMiB: 11000, peakMemMiB: 14000 },
      },
      {
        vmid: 402,
        node: 'pve-a2',
        name: 'old-build',
        cores: 2,
        memoryMiB: 4096,
        diskGiB: 40,
        status: 'stopped',
      },
    ],
    haRules: [
      {
        type: 'node-affinity',
        rule: 'gitlab-in-zone-c',
        resources: ['vm:401'],
        nodes: ['pve-c1:2', 'pve-c2:1'],
        comment: 'gitlab stays next to its storage',
      },
    ],
  };
}
