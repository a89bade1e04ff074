// Workload profiles: what a running container's cpu and memory do over time. A sample depends only on
// (seed, vmid, time, uptime), never on call order, which keeps runs reproducible.
import { noise } from '../rng.js';

export const WORKLOAD_PROFILES = ['idle', 'steady', 'spiky', 'diurnal', 'ramp', 'leak'] as const;
export type WorkloadProfile = (typeof WORKLOAD_PROFILES)[number];

export interface WorkloadSpec {
  profile: WorkloadProfile;
  /** Base cpu use as a fraction of the container's cores (0..1). */
  cpu?: number;
  /** Base memory use in MiB. */
  memMiB?: number;
  /** spiky/diurnal/ramp: the high level. */
  peakCpu?: number;
  peakMemMiB?: number;
  /** spiky: chance that a 10 s sample is a spike. */
  spikeChance?: number;
  /** diurnal: period and phase in seconds (default one day, peak at 14:00 UTC). */
  periodSeconds?: number;
  phaseSeconds?: number;
  /** ramp: seconds from start to the peak levels. */
  rampSeconds?: number;
  /** leak: memory growth while running. */
  leakMiBPerHour?: number;
  /** How long a clean shutdown takes inside the container (seconds); shutdown timeouts use it. */
  shutdownSeconds?: number;
  /** Network traffic in KiB/s at full cpu (scaled by cpu use). */
  netKiBps?: number;
}

export interface WorkloadSample {
  /** Fraction of the container's cores. */
  cpu: number;
  memBytes: number;
}

const MiB = 1024 * 1024;
const TICK_S = 10;

export function sampleWorkload(
  spec: WorkloadSpec,
  seed: number,
  vmid: number,
  tSec: number,
  uptimeSec: number,
): WorkloadSample {
  const tick = Math.floor(tSec / TICK_S);
  const n1 = noise(seed, vmid, tick, 1);
  const n2 = noise(seed, vmid, tick, 2);
  const base = spec.cpu ?? defaultCpu(spec.profile);
  const mem = spec.memMiB ?? defaultMem(spec.profile);
  const peakCpu = spec.peakCpu ?? Math.min(1, base * 4 + 0.2);
  const peakMem = spec.peakMemMiB ?? mem * 1.5;
  let cpu: number;
  let memMiB: number;
  switch (spec.profile) {
    case 'idle':
      cpu = 0.002 + 0.004 * n1;
      memMiB = jitter(mem, 0.01, n2);
      break;
    case 'steady':
      cpu = jitter(base, 0.05, n1);
      memMiB = jitter(mem, 0.01, n2);
      break;
    case 'spiky': {
      const spike = noise(seed, vmid, tick, 3) < (spec.spikeChance ?? 0.1);
      cpu = spike ? jitter(peakCpu, 0.05, n1) : jitter(base, 0.1, n1);
      memMiB = spike ? jitter(peakMem, 0.02, n2) : jitter(mem, 0.01, n2);
      break;
    }
    case 'diurnal': {
      const period = spec.periodSeconds ?? 86400;
      // Default phase puts the peak at 14:00 UTC, the trough at 02:00.
      const phase = spec.phaseSeconds ?? 0;
      const x = 0.5 - 0.5 * Math.cos((2 * Math.PI * (tSec + phase - 2 * 3600)) / period);
      cpu = jitter(base + (peakCpu - base) * x, 0.05, n1);
      memMiB = jitter(mem + (peakMem - mem) * x, 0.01, n2);
      break;
    }
    case 'ramp': {
      const x = Math.min(1, uptimeSec / (spec.rampSeconds ?? 3600));
      cpu = jitter(base + (peakCpu - base) * x, 0.03, n1);
      memMiB = jitter(mem + (peakMem - mem) * x, 0.01, n2);
      break;
    }
    case 'leak':
      cpu = jitter(base, 0.05, n1);
      memMiB = mem + (spec.leakMiBPerHour ?? 256) * (uptimeSec / 3600);
      break;
  }
  return { cpu: Math.max(0, Math.min(1, cpu)), memBytes: Math.max(0, Math.round(memMiB * MiB)) };
}

/** `level` moved by up to ±amount (relative), from noise n in [0, 1). */
function jitter(level: number, amount: number, n: number): number {
  return level * (1 + amount * (n * 2 - 1));
}

function defaultCpu(profile: WorkloadProfile): number {
  return profile === 'idle' ? 0.003 : profile === 'spiky' ? 0.05 : 0.15;
}

function defaultMem(profile: WorkloadProfile): number {
  return profile === 'idle' ? 48 : 256;
}

/** Checks an admin-supplied workload; returns an error text naming the field, or null. */
export function validateWorkload(input: Record<string, unknown>): string | null {
  if (!WORKLOAD_PROFILES.includes(input.profile as WorkloadProfile))
    return `profile: expected one of ${WORKLOAD_PROFILES.join(', ')}`;
  const numeric = [
    'cpu',
    'memMiB',
    'peakCpu',
    'peakMemMiB',
    'spikeChance',
    'periodSeconds',
    'phaseSeconds',
    'rampSeconds',
    'leakMiBPerHour',
    'shutdownSeconds',
    'netKiBps',
  ];
  for (const [k, v] of Object.entries(input)) {
    if (k === 'profile') continue;
    if (!numeric.includes(k)) return `${k}: unknown workload parameter`;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `${k}: expected a number >= 0`;
  }
  for (const k of ['cpu', 'peakCpu', 'spikeChance'])
    if (typeof input[k] === 'number' && (input[k] as number) > 1) return `${k}: expected a fraction 0..1`;
  return null;
}
