// The one place that turns what the manager knows (its latest observation and its settings) into
// the rows the node and container gauges show. Pure, so the numbers are tested without Temporal.
// Zones and drained nodes are read from the manager's settings, where the manager itself reads them.
import { isManaged, zoneIndex, zoneOf, type ClusterSnapshot } from '../domain';
import { footprintBytes, type CoreSettings } from '../policy';

/** The settings the feed reads; `zones` (zone name → nodes) is there once zones are configured. */
export type FeedSettings = Pick<CoreSettings, 'scope' | 'capacityBasis' | 'drainedNodes'> & {
  zones?: Record<string, string[]>;
};

export interface NodeRow {
  node: string;
  /** The node's zone, or its own name when no zone names it (a node in no zone is a zone of its own). */
  zone: string;
  online: boolean;
  drained: boolean;
  /** 0..1 of its cores. */
  cpuRatio: number;
  cores: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** The configured memory of its containers. */
  memoryAllocatedBytes: number;
  /** The managed containers' memory (by the capacity basis) over the node's: what the rules compare. */
  memoryManagedRatio: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
  /** Absent before the worker that observed had a previous reading to compare with. */
  networkReceiveBytesPerSecond?: number;
  networkTransmitBytesPerSecond?: number;
}

export interface ContainerRow {
  vmid: number;
  node: string;
  running: boolean;
  cpuRatio: number;
  cores: number;
  memoryUsedBytes: number;
  memoryLimitBytes: number;
}

export interface Feed {
  /** Epoch ms of the observation. */
  takenAt: number;
  nodes: NodeRow[];
  /** Managed containers only. */
  containers: ContainerRow[];
}

export function feedOf(snapshot: ClusterSnapshot, settings: FeedSettings): Feed {
  const drained = new Set(settings.drainedNodes);
  const zones = zoneIndex(settings.zones);
  const managed = snapshot.containers.filter((ct) => isManaged(ct, settings.scope));
  const nodes = snapshot.nodes.map((n): NodeRow => {
    const onNode = snapshot.containers.filter((ct) => ct.node === n.name);
    const managedBytes = managed
      .filter((ct) => ct.node === n.name)
      .reduce((sum, ct) => sum + footprintBytes(ct, settings.capacityBasis), 0);
    return {
      node: n.name,
      zone: zoneOf(zones, n.name),
      online: n.status === 'online',
      drained: drained.has(n.name),
      cpuRatio: n.cpu,
      cores: n.maxcpu,
      memoryUsedBytes: n.mem,
      memoryTotalBytes: n.maxmem,
      memoryAllocatedBytes: onNode.reduce((sum, ct) => sum + ct.maxmem, 0),
      memoryManagedRatio: n.maxmem > 0 ? managedBytes / n.maxmem : 0,
      diskUsedBytes: n.disk,
      diskTotalBytes: n.maxdisk,
      ...(n.netinRate === undefined ? {} : { networkReceiveBytesPerSecond: n.netinRate }),
      ...(n.netoutRate === undefined ? {} : { networkTransmitBytesPerSecond: n.netoutRate }),
    };
  });
  const containers = managed.map((ct): ContainerRow => ({
    vmid: ct.vmid,
    node: ct.node,
    running: ct.status === 'running',
    cpuRatio: ct.cpu,
    cores: ct.maxcpu,
    memoryUsedBytes: ct.mem,
    memoryLimitBytes: ct.maxmem,
  }));
  return { takenAt: snapshot.takenAt, nodes, containers };
}
