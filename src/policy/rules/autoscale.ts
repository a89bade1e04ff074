// Vertical autoscaling as a rule: a running managed container's cores and memory follow its use,
// averaged over a window of cycles, within limits and steps, with a cooldown after each change, and
// never past the node's host limits. Up on either resource; down only when both the window and the
// current value are low. A container at its memory limit (the OOM sign the observation shows) gets
// one memory step at once; a node past the emergency limit shrinks its slackest containers first.

import { isManaged, type Action, type ContainerState } from '../../domain';
import type { Proposal, Rule, RuleView } from '../rule';
import {
  autoscaleConfigSchema,
  definedOf,
  tunablesProblem,
  type AutoscaleConfig,
  type Tunables,
} from './autoscale-config';
import {
  OOM_HOLD_SECONDS,
  atMemoryLimit,
  cpuPercentOf,
  emptyAutoscaleState,
  memPercentOf,
  memoryMiBOf,
  windowValue,
  withSamples,
  type AutoscaleState,
  type WindowEntry,
} from './autoscale-window';

export { autoscaleConfigSchema, type AutoscaleConfig } from './autoscale-config';
export { emptyAutoscaleState, type AutoscaleState } from './autoscale-window';

const MiB = 1024 * 1024;
/** Emergency and OOM proposals go before every other rule's. */
export const EMERGENCY_PRIORITY = 100;

/** What the rule thinks of one managed container, for `autoscale status`. */
export interface AutoscaleReport {
  vmid: number;
  node: string;
  status: ContainerState['status'];
  cores: number;
  memoryMiB: number;
  targetCores: number;
  targetMemoryMiB: number;
  /** The window's value (average or percentile), null until the window is full. */
  cpuPercent: number | null;
  memoryPercent: number | null;
  samples: number;
  cooldownLeftSeconds: number;
  /** Why it is scaling, or why not. */
  why: string;
}

export interface Assessment {
  proposals: Proposal[];
  notes: string[];
  reports: AutoscaleReport[];
  state: AutoscaleState;
}

interface NodeRoom {
  name: string;
  maxmem: number;
  /** Memory in use plus the limits reserved in flight and by this round's proposals. */
  memBytes: number;
  /** Memory the node reports in use (what the emergency limit is measured on). */
  observedMemBytes: number;
  maxcpu: number;
  /** Cores in use plus the cores this round's scale-ups add (counted as fully used). */
  cpuCores: number;
}

export const autoscaleRule: Rule<AutoscaleConfig, AutoscaleState> = {
  name: 'autoscale',
  config: autoscaleConfigSchema,
  initialState: emptyAutoscaleState,
  evaluate(view, config, state) {
    const sampled = withSamples(
      state,
      view.snapshot,
      view.settings.scope,
      config.evaluationPeriods,
      view.now,
    );
    const { proposals, notes, state: next } = assessAutoscale(view, config, sampled);
    return { proposals, notes, state: next };
  },
};

/** The rule's decisions on a state whose window already holds this observation's samples. */
export function assessAutoscale(view: RuleView, config: AutoscaleConfig, state: AutoscaleState): Assessment {
  const now = Math.floor(view.now / 1000);
  const rooms = nodeRooms(view);
  const actionable = new Set(view.actionable.map((c) => c.vmid));
  const oom = { ...state.oom };
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  const reports = new Map<number, AutoscaleReport>();
  const managed = view.snapshot.containers
    .filter((ct) => isManaged(ct, view.settings.scope))
    .sort((a, b) => a.vmid - b.vmid);
  for (const ct of managed) reports.set(ct.vmid, baseReport(ct, state.w[String(ct.vmid)], config, now));

  const settled = new Set<number>();
  const propose = (ct: ContainerState, change: Change, priority?: number): void => {
    const action: Action = { kind: 'scale', vmid: ct.vmid, node: ct.node, reason: change.reasons.join('; ') };
    if (change.cores !== undefined) action.cores = change.cores;
    if (change.memoryMiB !== undefined) action.memoryMiB = change.memoryMiB;
    proposals.push(priority === undefined ? { action } : { action, priority });
    settled.add(ct.vmid);
    const report = reports.get(ct.vmid);
    if (report) {
      report.targetCores = change.cores ?? report.cores;
      report.targetMemoryMiB = change.memoryMiB ?? report.memoryMiB;
      report.why = action.reason;
    }
    const room = rooms.get(ct.node);
    if (room) {
      room.cpuCores += Math.max(0, (change.cores ?? ct.maxcpu) - ct.maxcpu);
      room.memBytes += Math.max(0, ((change.memoryMiB ?? memoryMiBOf(ct)) - memoryMiBOf(ct)) * MiB);
    }
  };
  const why = (vmid: number, text: string): void => {
    const report = reports.get(vmid);
    if (report) report.why = text;
  };

  // Emergencies first: a node about to run out of memory is the one thing that cannot wait.
  for (const room of rooms.values()) {
    const limit = (config.emergencyHostMemoryPercent / 100) * room.maxmem;
    if (room.observedMemBytes <= limit) continue;
    const candidates = managed.flatMap((ct) => {
      if (ct.node !== room.name || ct.status !== 'running' || !actionable.has(ct.vmid)) return [];
      const eff = effectiveSettings(ct, config);
      if ('disabled' in eff) return [];
      const floor = oomFloorMiB(oom[String(ct.vmid)], eff.t, now);
      const target = Math.max(
        Math.ceil(ct.mem / MiB) + eff.t.memoryStepMiB,
        eff.t.minMemoryMiB,
        Math.min(floor, eff.t.maxMemoryMiB),
      );
      const current = memoryMiBOf(ct);
      return target < current ? [{ ct, target, slack: ct.maxmem - ct.mem, eff }] : [];
    });
    candidates.sort((a, b) => b.slack - a.slack || a.ct.vmid - b.ct.vmid);
    const pct = Math.round((room.observedMemBytes * 100) / room.maxmem);
    const over =
      `${room.name} uses ${pct} % of its memory, over the ${config.emergencyHostMemoryPercent} % ` +
      'emergency limit';
    if (candidates.length === 0) {
      notes.push(`${over}, but none of its managed containers can give memory back`);
      continue;
    }
    let freed = 0;
    for (const c of candidates) {
      if (freed >= room.observedMemBytes - limit) break;
      const current = memoryMiBOf(c.ct);
      const usedMiB = Math.ceil(c.ct.mem / MiB);
      propose(
        c.ct,
        {
          memoryMiB: c.target,
          reasons: [
            `${over}: CT ${c.ct.vmid} has the most unused memory (${Math.round(c.slack / MiB)} MiB): ` +
              `${current} → ${c.target} MiB (uses ${usedMiB} MiB, kept ${c.eff.t.memoryStepMiB} MiB above it)`,
          ],
        },
        EMERGENCY_PRIORITY,
      );
      freed += (current - c.target) * MiB;
    }
  }

  for (const ct of managed) {
    if (settled.has(ct.vmid)) continue;
    if (ct.status !== 'running') {
      why(ct.vmid, 'stopped: a stopped container is never scaled');
      continue;
    }
    if (!actionable.has(ct.vmid)) {
      why(
        ct.vmid,
        'not actionable now (an operation in flight, the manager’s cooldown, just started, or locked)',
      );
      continue;
    }
    const eff = effectiveSettings(ct, config);
    if ('disabled' in eff) {
      why(ct.vmid, eff.disabled);
      continue;
    }
    const key = String(ct.vmid);
    const entry = state.w[key];
    const t = eff.t;
    const cores = ct.maxcpu;
    const memory = memoryMiBOf(ct);
    const room = rooms.get(ct.node);

    // OOM: at its limit means the cgroup caps it and it swaps or is killed; one step now, no window.
    if (atMemoryLimit(ct) && memory < t.maxMemoryMiB) {
      const target = Math.min(t.maxMemoryMiB, Math.max(t.minMemoryMiB, memory + t.memoryStepMiB));
      const hostProblem = room ? memoryHostProblem(room, (target - memory) * MiB, config) : 'node unknown';
      if (hostProblem === null) {
        oom[key] = [Math.max(oom[key]?.[0] ?? 0, Math.ceil(ct.mem / MiB)), now + OOM_HOLD_SECONDS];
        propose(
          ct,
          {
            memoryMiB: target,
            reasons: [
              `memory at its limit (${memPercentOf(ct)} % of ${memory} MiB), a sign of OOM: ${memory} → ${target} MiB ` +
                `at once, and not below its peak plus ${t.memoryStepMiB} MiB for an hour`,
            ],
          },
          EMERGENCY_PRIORITY,
        );
        continue;
      }
      notes.push(`CT ${ct.vmid} is at its memory limit, but ${hostProblem}`);
      why(ct.vmid, `at its memory limit, but ${hostProblem}`);
      continue;
    }

    if (!entry || entry.c.length < config.evaluationPeriods) {
      why(ct.vmid, `collecting samples (${entry?.c.length ?? 0} of ${config.evaluationPeriods})`);
      continue;
    }
    const want = wanted(ct, entry, t, config, oomFloorMiB(oom[key], t, now));
    const left = cooldownLeft(entry, t, now);
    if (left > 0) {
      why(
        ct.vmid,
        want.reasons.length > 0
          ? `would scale (${want.reasons.join('; ')}) but is cooling down, ${left} s left`
          : `within thresholds; cooling down, ${left} s left`,
      );
      continue;
    }
    const change: Change = { reasons: [] };
    const blocked: string[] = [...want.blocked];
    if (want.cores !== undefined) {
      const added = want.cores - cores;
      const problem = added > 0 && room ? cpuHostProblem(room, added, config) : null;
      if (problem) blocked.push(`${want.coresReason}, but ${problem}`);
      else {
        change.cores = want.cores;
        change.reasons.push(want.coresReason as string);
      }
    }
    if (want.memoryMiB !== undefined) {
      const growth = (want.memoryMiB - memory) * MiB;
      const problem = growth > 0 && room ? memoryHostProblem(room, growth, config) : null;
      if (problem) blocked.push(`${want.memoryReason}, but ${problem}`);
      else {
        change.memoryMiB = want.memoryMiB;
        change.reasons.push(want.memoryReason as string);
      }
    }
    for (const b of blocked) notes.push(`CT ${ct.vmid}: ${b}`);
    if (change.cores !== undefined || change.memoryMiB !== undefined) propose(ct, change);
    else why(ct.vmid, blocked.length > 0 ? blocked.join('; ') : (want.idle ?? 'within thresholds'));
  }

  return { proposals, notes, reports: [...reports.values()], state: { w: state.w, oom } };
}

interface Change {
  cores?: number;
  memoryMiB?: number;
  reasons: string[];
}

interface Wanted {
  cores?: number;
  coresReason?: string;
  memoryMiB?: number;
  memoryReason?: string;
  /** Wanted, but a limit or the OOM floor stops it. */
  blocked: string[];
  idle?: string;
}

/** What the window and the current values ask for, within limits, steps and the OOM floor. */
function wanted(
  ct: ContainerState,
  entry: WindowEntry,
  t: Tunables,
  config: AutoscaleConfig,
  floorMiB: number,
): Wanted & { reasons: string[] } {
  const out: Wanted = { blocked: [] };
  const stat = config.percentile === undefined ? 'avg' : `p${config.percentile}`;
  const of = `${stat} of ${entry.c.length} cycles`;
  const cpu = windowValue(entry.c, config.percentile);
  const cpuNow = cpuPercentOf(ct);
  const mem = windowValue(entry.m, config.percentile);
  const memNow = memPercentOf(ct);
  const cores = ct.maxcpu;
  const memory = memoryMiBOf(ct);

  if (cpu >= t.cpuUpPercent) {
    const target = Math.min(t.maxCores, Math.max(t.minCores, cores + t.coreStep));
    const reason = `CPU ${Math.round(cpu)} % ${of} ≥ ${t.cpuUpPercent} %`;
    if (target > cores) {
      out.cores = target;
      out.coresReason = `${reason}: ${cores} → ${target} cores`;
    } else out.blocked.push(`${reason}, but it has maxCores (${t.maxCores}) already`);
  } else if (cpu < t.cpuDownPercent && cpuNow < t.cpuDownPercent && cores > t.minCores) {
    const target = Math.min(t.maxCores, Math.max(t.minCores, cores - t.coreStep));
    // Not so far down that today's use would be over the up threshold at once: that would flap.
    const after = (cpuNow * cores) / target;
    if (target < cores && after < t.cpuUpPercent) {
      out.cores = target;
      out.coresReason = `CPU ${Math.round(cpu)} % ${of} and ${cpuNow} % now < ${t.cpuDownPercent} %: ${cores} → ${target} cores`;
    }
  }

  if (mem >= t.memoryUpPercent) {
    const target = Math.min(t.maxMemoryMiB, Math.max(t.minMemoryMiB, memory + t.memoryStepMiB));
    const reason = `memory ${Math.round(mem)} % ${of} ≥ ${t.memoryUpPercent} %`;
    if (target > memory) {
      out.memoryMiB = target;
      out.memoryReason = `${reason}: ${memory} → ${target} MiB`;
    } else out.blocked.push(`${reason}, but it has maxMemoryMiB (${t.maxMemoryMiB}) already`);
  } else if (mem < t.memoryDownPercent && memNow < t.memoryDownPercent && memory > t.minMemoryMiB) {
    const lowest = Math.max(t.minMemoryMiB, Math.min(floorMiB, t.maxMemoryMiB));
    const target = Math.min(t.maxMemoryMiB, Math.max(lowest, memory - t.memoryStepMiB));
    const after = (ct.mem * 100) / (target * MiB);
    if (target < memory && after < t.memoryUpPercent) {
      out.memoryMiB = target;
      out.memoryReason = `memory ${Math.round(mem)} % ${of} and ${memNow} % now < ${t.memoryDownPercent} %: ${memory} → ${target} MiB`;
    } else if (floorMiB > 0 && lowest >= memory) {
      out.idle = `memory is low, but it is held at ${lowest} MiB or more for an hour after an OOM`;
    }
  }
  const reasons = [out.coresReason, out.memoryReason].filter((r): r is string => r !== undefined);
  return { ...out, reasons };
}

/** The settings for one container: the section, then its pool's, tag's and vmid's overrides. */
export function effectiveSettings(
  ct: Pick<ContainerState, 'vmid' | 'pool' | 'tags'>,
  config: AutoscaleConfig,
): { t: Tunables; from: string[] } | { disabled: string } {
  const layers = [
    config.overrides.find((o) => o.pool !== undefined && o.pool === ct.pool),
    config.overrides.find((o) => o.tag !== undefined && ct.tags.includes(o.tag)),
    config.overrides.find((o) => o.vmid === ct.vmid),
  ];
  let t: Tunables = { ...config };
  let enabled = true;
  let decidedBy = '';
  const from: string[] = [];
  for (const o of layers) {
    if (!o) continue;
    const name =
      o.vmid !== undefined ? `vmid ${o.vmid}` : o.pool !== undefined ? `pool ${o.pool}` : `tag ${o.tag}`;
    from.push(name);
    t = { ...t, ...definedOf(o) };
    if (o.enabled !== undefined) {
      enabled = o.enabled;
      decidedBy = name;
    }
  }
  if (!enabled) return { disabled: `autoscaling is disabled for it by the override of ${decidedBy}` };
  const problem = tunablesProblem(t);
  if (problem) {
    return { disabled: `its overrides (${from.join(', ')}) conflict: ${problem.field} ${problem.expected}` };
  }
  return { t, from };
}

function oomFloorMiB(floor: [number, number] | undefined, t: Tunables, now: number): number {
  return floor && floor[1] > now ? floor[0] + t.memoryStepMiB : 0;
}

function cooldownLeft(entry: WindowEntry | undefined, t: Tunables, now: number): number {
  if (!entry || entry.t === 0) return 0;
  return Math.max(0, Math.ceil(entry.t + t.cooldownSeconds - now));
}

function nodeRooms(view: RuleView): Map<string, NodeRoom> {
  const rooms = new Map<string, NodeRoom>();
  for (const load of view.loads) {
    const node = view.snapshot.nodes.find((n) => n.name === load.node);
    if (!node) continue;
    rooms.set(load.node, {
      name: load.node,
      maxmem: load.maxmem,
      memBytes: load.usedBytes,
      observedMemBytes: node.mem,
      maxcpu: node.maxcpu,
      cpuCores: node.cpu * node.maxcpu,
    });
  }
  return rooms;
}

function memoryHostProblem(room: NodeRoom, growth: number, config: AutoscaleConfig): string | null {
  const after = room.memBytes + growth;
  if (after * 100 <= config.hostMaxMemoryPercent * room.maxmem) return null;
  const pct = (after * 100) / room.maxmem;
  return `${room.name} would use ${pct.toFixed(1)} % of its memory, over hostMaxMemoryPercent (${config.hostMaxMemoryPercent} %)`;
}

function cpuHostProblem(room: NodeRoom, added: number, config: AutoscaleConfig): string | null {
  const after = room.cpuCores + added;
  if (after > room.maxcpu) return `${room.name} has only ${room.maxcpu} cores`;
  if (after * 100 <= config.hostMaxCpuPercent * room.maxcpu) return null;
  const pct = (after * 100) / room.maxcpu;
  return `${room.name} would use ${pct.toFixed(1)} % of its CPU, over hostMaxCpuPercent (${config.hostMaxCpuPercent} %)`;
}

function baseReport(
  ct: ContainerState,
  entry: WindowEntry | undefined,
  config: AutoscaleConfig,
  now: number,
): AutoscaleReport {
  const full = entry !== undefined && entry.c.length >= config.evaluationPeriods;
  const eff = effectiveSettings(ct, config);
  return {
    vmid: ct.vmid,
    node: ct.node,
    status: ct.status,
    cores: ct.maxcpu,
    memoryMiB: memoryMiBOf(ct),
    targetCores: ct.maxcpu,
    targetMemoryMiB: memoryMiBOf(ct),
    cpuPercent: full ? Math.round(windowValue(entry.c, config.percentile)) : null,
    memoryPercent: full ? Math.round(windowValue(entry.m, config.percentile)) : null,
    samples: entry?.c.length ?? 0,
    cooldownLeftSeconds: 'disabled' in eff ? 0 : cooldownLeft(entry, eff.t, now),
    why: 'within thresholds',
  };
}
