// The /cluster/resources → ClusterSnapshot mapper.

import { describe, expect, it } from 'vitest';
import { clusterResourcesSchema } from '../../../src/proxmox/schemas';
import { toClusterSnapshot } from '../../../src/proxmox/snapshot';

// Shaped like a real PVE 9 answer: template as 0/1, tags ';'-separated, a VM and storage mixed in.
const wire = [
  {
    id: 'node/pve2',
    type: 'node',
    node: 'pve2',
    status: 'online',
    cpu: 0.25,
    maxcpu: 8,
    mem: 4e9,
    maxmem: 16e9,
    disk: 1e9,
    maxdisk: 1e11,
    uptime: 3600,
  },
  {
    id: 'node/pve1',
    type: 'node',
    node: 'pve1',
    status: 'online',
    cpu: 0.5,
    maxcpu: 4,
    mem: 2e9,
    maxmem: 8e9,
    disk: 2e9,
    maxdisk: 5e10,
  },
  { id: 'node/pve3', type: 'node', node: 'pve3', status: 'offline' },
  {
    id: 'lxc/205',
    type: 'lxc',
    vmid: 205,
    node: 'pve2',
    name: 'web-2',
    status: 'running',
    template: 0,
    cpu: 0.1,
    maxcpu: 2,
    mem: 1e8,
    maxmem: 5e8,
    disk: 1e8,
    maxdisk: 8e9,
    uptime: 99,
    tags: 'autopilot;web',
    pool: 'fleet',
    netin: 123_456_789,
    netout: 9_876_543,
  },
  {
    id: 'lxc/101',
    type: 'lxc',
    vmid: 101,
    node: 'pve1',
    name: 'db',
    status: 'stopped',
    template: 0,
    maxcpu: 1,
    maxmem: 5e8,
    lock: 'migrate',
  },
  { id: 'lxc/900', type: 'lxc', vmid: 900, node: 'pve1', name: 'tpl', status: 'stopped', template: 1 },
  { id: 'lxc/300', type: 'lxc', vmid: 300, node: 'pve3', name: 'lost', status: 'unknown', template: 0 },
  { id: 'qemu/400', type: 'qemu', vmid: 400, node: 'pve1', name: 'vm', status: 'running', template: 0 },
  {
    id: 'storage/pve1/local',
    type: 'storage',
    node: 'pve1',
    storage: 'local',
    status: 'available',
    disk: 1,
    maxdisk: 2,
  },
  { id: 'pool/fleet', type: 'pool', pool: 'fleet' },
];

describe('toClusterSnapshot', () => {
  const snapshot = toClusterSnapshot(clusterResourcesSchema.parse(wire), 1_700_000_000_000);

  it('keeps nodes sorted by name, with zero metrics for an offline node', () => {
    expect(snapshot.nodes.map((n) => [n.name, n.status])).toEqual([
      ['pve1', 'online'],
      ['pve2', 'online'],
      ['pve3', 'offline'],
    ]);
    expect(snapshot.nodes[2]).toEqual({
      name: 'pve3',
      status: 'offline',
      cpu: 0,
      maxcpu: 0,
      mem: 0,
      maxmem: 0,
      disk: 0,
      maxdisk: 0,
    });
  });

  it('keeps only LXC guests, sorted by vmid, and leaves VMs, storage and pools out', () => {
    expect(snapshot.containers.map((c) => c.vmid)).toEqual([101, 205, 300, 900]);
  });

  it('maps tags, pool, lock and template into the domain shape', () => {
    const web = snapshot.containers.find((c) => c.vmid === 205);
    expect(web).toEqual({
      vmid: 205,
      name: 'web-2',
      node: 'pve2',
      status: 'running',
      cpu: 0.1,
      maxcpu: 2,
      mem: 1e8,
      maxmem: 5e8,
      disk: 1e8,
      maxdisk: 8e9,
      uptime: 99,
      tags: ['autopilot', 'web'],
      pool: 'fleet',
      template: false,
      netin: 123_456_789,
      netout: 9_876_543,
    });
    expect(snapshot.containers.find((c) => c.vmid === 101)?.lock).toBe('migrate');
    expect(snapshot.containers.find((c) => c.vmid === 900)?.template).toBe(true);
  });

  it('keeps the network counters (the rates are their change between observations), none when absent', () => {
    const web = snapshot.containers.find((c) => c.vmid === 205);
    expect([web?.netin, web?.netout]).toEqual([123_456_789, 9_876_543]);
    const db = snapshot.containers.find((c) => c.vmid === 101);
    expect(db && ('netin' in db || 'netout' in db)).toBe(false);
  });

  it('reports a guest in unknown state (node down) as not running', () => {
    expect(snapshot.containers.find((c) => c.vmid === 300)?.status).toBe('stopped');
  });

  it('stamps the observation time it was given', () => {
    expect(snapshot.takenAt).toBe(1_700_000_000_000);
  });

  it('produces plain JSON: no undefined keys, equal after a round trip', () => {
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    const db = snapshot.containers.find((c) => c.vmid === 101);
    expect(db && 'pool' in db).toBe(false);
  });
});
