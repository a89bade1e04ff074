// The autoscale rule's memory: per running managed container, the last few CPU and memory samples
// (whole percents of its own limits) and the limits they were taken under, plus the OOM floors.
// A few numbers a container, so 10,000 containers stay within the observation's size.

import { isManaged, type ClusterSnapshot, type ContainerState, type ManagedScope } from '../../domain';

const MiB = 1024 * 1024;
/** Memory at this share of its limit counts as at the limit: the cgroup is capping it. */
export const AT_LIMIT_SHARE = 0.98;
/** How long an OOM'd container is kept above its peak plus one step. */
export const OOM_HOLD_SECONDS = 3600;

export interface WindowEntry {
  /** CPU samples, % of its cores, oldest first. */
  c: number[];
  /** Memory samples, % of its limit, oldest first. */
  m: number[];
  /** Cores and memory (MiB) the samples were taken under. */
  k: number;
  g: number;
  /** Epoch seconds at which its limits were last seen to change (0: never seen to). */
  t: number;
}

export interface AutoscaleState {
  /** By vmid (a JSON key). */
  w: Record<string, WindowEntry>;
  /** vmid → [peak memory MiB, epoch seconds until which it is not scaled below peak + one step]. */
  oom: Record<string, [number, number]>;
}

export function emptyAutoscaleState(): AutoscaleState {
  return { w: {}, oom: {} };
}

export function cpuPercentOf(ct: Pick<ContainerState, 'cpu'>): number {
  return Math.round(ct.cpu * 100);
}

export function memPercentOf(ct: Pick<ContainerState, 'mem' | 'maxmem'>): number {
  return ct.maxmem > 0 ? Math.round((ct.mem * 100) / ct.maxmem) : 0;
}

export function memoryMiBOf(ct: Pick<ContainerState, 'maxmem'>): number {
  return Math.round(ct.maxmem / MiB);
}

/** The container's memory is at its limit: what an OOM looks like in the observation. */
export function atMemoryLimit(ct: Pick<ContainerState, 'mem' | 'maxmem' | 'status'>): boolean {
  return ct.status === 'running' && ct.maxmem > 0 && ct.mem >= AT_LIMIT_SHARE * ct.maxmem;
}

/**
 * Adds this observation's samples. A change of a container's limits starts its window afresh (the
 * old percents were of other limits) and its cooldown; a stopped or vanished container's samples
 * are forgotten, and a vanished one's OOM floor too.
 */
export function withSamples(
  state: AutoscaleState,
  snapshot: ClusterSnapshot,
  scope: ManagedScope,
  periods: number,
  nowMs: number,
): AutoscaleState {
  const now = Math.floor(nowMs / 1000);
  const w: Record<string, WindowEntry> = {};
  const oom: Record<string, [number, number]> = {};
  for (const ct of snapshot.containers) {
    if (!isManaged(ct, scope)) continue;
    const key = String(ct.vmid);
    const floor = state.oom[key];
    if (floor && floor[1] > now) {
      oom[key] = [Math.max(floor[0], Math.ceil(ct.mem / MiB)), floor[1]];
    }
    if (ct.status !== 'running') continue;
    const before = state.w[key];
    const k = ct.maxcpu;
    const g = memoryMiBOf(ct);
    const changed = before !== undefined && (before.k !== k || before.g !== g);
    const keep = before !== undefined && !changed;
    w[key] = {
      c: [...(keep ? before.c : []), cpuPercentOf(ct)].slice(-periods),
      m: [...(keep ? before.m : []), memPercentOf(ct)].slice(-periods),
      k,
      g,
      t: changed ? now : (before?.t ?? 0),
    };
  }
  return { w, oom };
}

/** The window's average, or its p-th percentile (nearest rank) when one is configured. */
export function windowValue(samples: readonly number[], percentile: number | undefined): number {
  if (samples.length === 0) return 0;
  if (percentile === undefined) return samples.reduce((a, b) => a + b, 0) / samples.length;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1] as number;
}
