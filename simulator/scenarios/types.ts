// The shape of a scenario: the cluster pve-sim starts with, its users and tokens.
import type { WorkloadSpec } from '../model/workload.js';

export type Role = 'Administrator' | 'PVEAuditor' | 'PVEVMUser';

export interface NodeSpec {
  name: string;
  cpus: number;
  memGiB: number;
  rootfsGiB: number;
  swapGiB?: number;
  zone?: string;
  online?: boolean;
  cpuModel?: string;
}

export interface StorageSpec {
  id: string;
  type: 'dir' | 'lvmthin' | 'zfspool' | 'rbd' | 'nfs';
  content: string[];
  shared: boolean;
  totalGiB: number;
  /** Nodes that have this storage; all nodes when absent. */
  nodes?: string[];
}

export interface TemplateSpec {
  storage: string;
  file: string;
  sizeMiB: number;
}

export interface ContainerSpec {
  vmid: number;
  node: string;
  hostname: string;
  cores: number;
  memoryMiB: number;
  swapMiB: number;
  diskGiB: number;
  /** Used space on the root disk; defaults to a share of diskGiB. */
  diskUsedGiB?: number;
  storage?: string;
  ostype?: string;
  status: 'running' | 'stopped';
  tags?: string[];
  pool?: string;
  template?: boolean;
  ha?: boolean;
  protection?: boolean;
  /** A lock the container starts with (as if a task had crashed holding it). */
  lock?: string;
  workload?: WorkloadSpec;
}

export interface UserSpec {
  userid: string;
  password: string;
  role: Role;
}

export interface TokenSpec {
  /** Full token id, USER@REALM!NAME. */
  id: string;
  secret: string;
  role: Role;
  /**
   * Privilege separation (PVE's default for new tokens, so the default here): the token gets its
   * own role intersected with its user's privileges. Off: the token has exactly its user's.
   */
  privsep?: boolean;
}

/** An unmanaged QEMU VM: listed, readable and counted in node load; pve-sim does not run its tasks. */
export interface VmSpec {
  vmid: number;
  node: string;
  name: string;
  cores: number;
  memoryMiB: number;
  diskGiB: number;
  storage?: string;
  status: 'running' | 'stopped';
  tags?: string[];
  pool?: string;
  ha?: boolean;
  workload?: WorkloadSpec;
}

/** A PVE 9 HA rule (/etc/pve/ha/rules.cfg). */
export type HaRuleSpec =
  | {
      type: 'node-affinity';
      rule: string;
      resources: string[];
      /** node or node:priority entries. */
      nodes: string[];
      strict?: boolean;
      comment?: string;
    }
  | {
      type: 'resource-affinity';
      rule: string;
      resources: string[];
      affinity: 'positive' | 'negative';
      comment?: string;
    };

export interface ScenarioSpec {
  name: string;
  clusterName: string;
  /** Simulated start time (Unix seconds) in manual clock mode. */
  epoch: number;
  users: UserSpec[];
  tokens: TokenSpec[];
  nodes: NodeSpec[];
  storages: StorageSpec[];
  templates: TemplateSpec[];
  pools: Array<{ poolid: string; comment?: string }>;
  containers: ContainerSpec[];
  /** QEMU VMs beside the containers (none when absent). */
  vms?: VmSpec[];
  /** HA rules (none when absent). */
  haRules?: HaRuleSpec[];
  /** The vmid range the orchestrator manages in this scenario (information for tools and tests). */
  managedRange?: { min: number; max: number };
  /** Admin-API faults active from the start. */
  faults?: Array<Record<string, unknown>>;
}
