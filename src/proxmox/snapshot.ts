// Pure mapping from GET /cluster/resources entries to the domain ClusterSnapshot the policies read.
// No I/O and no clock: the caller passes the time of the observation.

import type { ClusterSnapshot, ContainerState, NodeState, NodeStatus } from '../domain';
import { splitTags, type ClusterResource } from './schemas';

function nodeStatusOf(status: string | undefined): NodeStatus {
  return status === 'online' || status === 'offline' ? status : 'unknown';
}

function toNode(r: ClusterResource): NodeState {
  return {
    name: r.node ?? r.id.replace(/^node\//, ''),
    status: nodeStatusOf(r.status),
    // An offline node reports no metrics; zero keeps the snapshot plain numbers.
    cpu: r.cpu ?? 0,
    maxcpu: r.maxcpu ?? 0,
    mem: r.mem ?? 0,
    maxmem: r.maxmem ?? 0,
    disk: r.disk ?? 0,
    maxdisk: r.maxdisk ?? 0,
  };
}

function toContainer(r: ClusterResource & { vmid: number; node: string }): ContainerState {
  const ct: ContainerState = {
    vmid: r.vmid,
    name: r.name ?? `CT${r.vmid}`,
    node: r.node,
    // Guests on an unreachable node report 'unknown'; they are not running as far as we can act.
    status: r.status === 'running' ? 'running' : 'stopped',
    cpu: r.cpu ?? 0,
    maxcpu: r.maxcpu ?? 0,
    mem: r.mem ?? 0,
    maxmem: r.maxmem ?? 0,
    disk: r.disk ?? 0,
    maxdisk: r.maxdisk ?? 0,
    uptime: r.uptime ?? 0,
    tags: splitTags(r.tags),
    template: r.template ?? false,
  };
  // Optional keys are left out rather than set to undefined: snapshots travel as JSON payloads.
  if (r.pool !== undefined && r.pool !== '') ct.pool = r.pool;
  if (r.lock !== undefined && r.lock !== '') ct.lock = r.lock;
  // The counters give the network rates, from their change between two observations.
  if (r.netin !== undefined && r.netout !== undefined) {
    ct.netin = r.netin;
    ct.netout = r.netout;
  }
  return ct;
}

function isContainer(r: ClusterResource): r is ClusterResource & { vmid: number; node: string } {
  return r.type === 'lxc' && r.vmid !== undefined && r.node !== undefined;
}

/**
 * Nodes and LXC containers of one /cluster/resources answer, sorted by name and vmid so that equal
 * clusters give equal snapshots. VMs (qemu), storages, pools and SDN entries are left out.
 */
export function toClusterSnapshot(resources: readonly ClusterResource[], takenAt: number): ClusterSnapshot {
  const nodes = resources
    .filter((r) => r.type === 'node')
    .map(toNode)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const containers = resources
    .filter(isContainer)
    .map(toContainer)
    .sort((a, b) => a.vmid - b.vmid);
  return { takenAt, nodes, containers };
}
