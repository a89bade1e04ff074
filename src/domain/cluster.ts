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
   * Bytes per second its containers received and sent since the manager's previous observation
   * (PVE reports no node counters): the sum of their rates. Set by the manager (withNetworkRates in
   * src/policy/metrics.ts), absent without a previous observation.
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
  /**
   * Bytes per second since the manager's previous observation, from the counters' change; absent
   * when there is none to compare with (first observation, moved, restarted, new).
   */
  netinRate?: number;
  netoutRate?: number;
}

/** One observation of the cluster, taken from a single GET /cluster/resources. */
export interface ClusterSnapshot {
  /** Epoch milliseconds at which the observation was taken. */
  takenAt: number;
  nodes: NodeState[];
  containers: ContainerState[];
}
