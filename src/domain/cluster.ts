// Types of the world as the orchestrator sees it: plain JSON values, safe in workflow payloads.

export type NodeStatus = 'online' | 'offline' | 'unknown';
export type ContainerStatus = 'running' | 'stopped';

export interface NodeState {
  name: string;
  status: NodeStatus;
  /** CPU usage, 0..1 of maxcpu. */
  cpu: number;
  maxcpu: number;
  /** Bytes. */
  mem: number;
  maxmem: number;
  disk: number;
  maxdisk: number;
  /**
   * Bytes per second its guests received and sent since the worker's previous observation (PVE
   * reports no node counters); absent on a worker's first observation. For the metrics only.
   */
  netinRate?: number;
  netoutRate?: number;
}

export interface ContainerState {
  vmid: number;
  name: string;
  node: string;
  status: ContainerStatus;
  /** CPU usage, 0..1 of maxcpu (its cores). */
  cpu: number;
  maxcpu: number;
  /** Bytes used / configured limit. */
  mem: number;
  maxmem: number;
  disk: number;
  maxdisk: number;
  uptime: number;
  tags: string[];
  pool?: string;
  /** PVE lock name (migrate, backup, snapshot, ...) when the container is locked. */
  lock?: string;
  template: boolean;
  /** Network byte counters since the container started, when the observation carries them. */
  netin?: number;
  netout?: number;
}

/** One observation of the cluster, taken from a single GET /cluster/resources. */
export interface ClusterSnapshot {
  /** Epoch milliseconds at which the observation was taken. */
  takenAt: number;
  nodes: NodeState[];
  containers: ContainerState[];
}
