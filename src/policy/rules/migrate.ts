// The lab's migrate rule: a node whose managed containers pass the migrate threshold sends one of
// them to a node under it, never so many that the target then passes the threshold itself.
//
// It decides exactly as the first version did (which built every (container, target) pair; that
// version is the oracle of test/unit/policy/rules/lab-rules-equivalence.test.ts), but finds the best
// pair by binary search over the targets sorted by load, so a round on 1,000 nodes stays fast.

import type { Action, ContainerState } from '../../domain';
import {
  compareNames,
  footprintBytes,
  isUnder,
  loadPercent,
  nodesPassing,
  passes,
  percentOf,
  type NodeLoad,
} from '../capacity';
import { formatLoad, formatMiB, formatPercent } from '../format';
import { pickUniform } from '../pick';
import type { LabPolicy, LabRule } from './context';

interface Move {
  ct: ContainerState;
  target: NodeLoad;
  bytes: number;
}

interface Closest {
  target: Target;
  spread: number;
}

export const migrateRule: LabRule = (ctx) => {
  const { policy } = ctx;
  // A working copy: each chosen move changes the loads the next source sees.
  const loads = ctx.loads.map((l) => ({ ...l }));
  const sources = nodesPassing(loads, policy.migratePercent).sort(
    (a, b) => loadPercent(b) - loadPercent(a) || compareNames(a.node, b.node),
  );
  // A node shedding this cycle takes nothing back in the same cycle: that would only be churn.
  const shedding = new Set(sources.map((s) => s.node));
  const targets = new Targets(
    loads.flatMap((load, order) =>
      !shedding.has(load.node) && isUnder(load.managedBytes, load.maxmem, policy.migratePercent)
        ? [{ load, order }]
        : [],
    ),
    policy,
  );
  // Built on first use: a round in which no node is under the threshold never needs it.
  let onNode: Map<string, Candidate[]> | undefined;
  const actions: Action[] = [];
  for (const source of sources) {
    const over = `${formatLoad(source)} is over the ${formatPercent(policy.migratePercent)} migrate threshold`;
    if (targets.size === 0) {
      ctx.note(`${over}, but no node is under it`);
      continue;
    }
    onNode ??= containersByNode(ctx.actionable, policy);
    const candidates = onNode.get(source.node) ?? [];
    let chosen: { action: Action; move: Move } | undefined;
    if (policy.migrateChoice === 'best-fit') {
      const move = bestFit(source, candidates, targets);
      if (move) chosen = describe(move, source, 'evens the load best');
    } else {
      // Drawn only when something fits, as before: the draws of later cycles depend on it.
      const fits = new SizeSet();
      const fitsNot = new SizeSet();
      const fitting = candidates.filter((c) => {
        if (fits.has(c.bytes, c.ct.maxmem)) return true;
        if (fitsNot.has(c.bytes, c.ct.maxmem)) return false;
        const yes = targets.anyFits(c.ct, c.bytes);
        (yes ? fits : fitsNot).add(c.bytes, c.ct.maxmem);
        return yes;
      });
      const picked = fitting.length > 0 ? pickUniform(fitting, ctx.random()) : undefined;
      const target = picked && targets.leastLoadedFit(picked.ct, picked.bytes);
      if (picked && target) {
        chosen = describe(
          { ct: picked.ct, target: target.load, bytes: picked.bytes },
          source,
          'drawn at random, to the least loaded node it fits on',
        );
      }
    }
    if (!chosen) {
      ctx.note(`${over}, but none of its containers fits on a node under it`);
      continue;
    }
    actions.push(chosen.action);
    const { move } = chosen;
    source.managedBytes -= move.bytes;
    targets.update(move.target, () => {
      move.target.managedBytes += move.bytes;
      move.target.usedBytes += move.ct.maxmem;
    });
  }
  return actions;
};

interface Candidate {
  ct: ContainerState;
  bytes: number;
}

/** Each node's actionable containers in the order given (by vmid), with what moving them relieves. */
function containersByNode(
  actionable: readonly ContainerState[],
  policy: LabPolicy,
): Map<string, Candidate[]> {
  const byNode = new Map<string, Candidate[]>();
  for (const ct of actionable) {
    const bytes = footprintBytes(ct, policy.capacityBasis);
    // Moving a container that counts for nothing (stopped, on the used basis) relieves nobody.
    if (bytes <= 0) continue;
    let list = byNode.get(ct.node);
    if (!list) byNode.set(ct.node, (list = []));
    list.push({ ct, bytes });
  }
  return byNode;
}

/** A target and its place in the rule's node order, which breaks ties as the pair list did. */
interface Target {
  load: NodeLoad;
  order: number;
}

/** The targets of one total memory size, sorted by managed bytes: their load after a move is then sorted too. */
interface Group {
  maxmem: number;
  items: Target[];
  /** minUsed[i]: the least usedBytes among items[0..i], to tell at once whether any of them admits a CT. */
  minUsed: number[];
}

/** The nodes under the threshold and not shedding, kept sorted as moves change their loads. */
class Targets {
  private readonly groups = new Map<number, Group>();
  private readonly byLoad = new Map<NodeLoad, Target>();
  size = 0;

  constructor(
    targets: readonly Target[],
    private readonly policy: LabPolicy,
  ) {
    for (const t of targets) this.insert(t);
  }

  /** Applies `change` to a target's load and keeps it in order, or drops it once no longer under. */
  update(load: NodeLoad, change: () => void): void {
    const t = this.byLoad.get(load);
    if (t) this.remove(t);
    change();
    if (t && isUnder(load.managedBytes, load.maxmem, this.policy.migratePercent)) this.insert(t);
  }

  /** Whether some target takes `bytes` without passing the threshold and admits the CT's whole limit. */
  anyFits(ct: ContainerState, bytes: number): boolean {
    for (const g of this.groups.values()) {
      const end = this.fitEnd(g, bytes);
      if (end > 0 && !this.refuses(g.minUsed[end - 1] as number, ct, g.maxmem)) return true;
    }
    return false;
  }

  /** The fitting target whose load after the move is lowest; among equals the first in node order. */
  leastLoadedFit(ct: ContainerState, bytes: number): Target | undefined {
    let best: Target | undefined;
    let bestAfter = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) {
      const end = this.fitEnd(g, bytes);
      let groupAfter: number | undefined;
      for (let i = 0; i < end; i++) {
        const t = g.items[i] as Target;
        const after = percentOf(t.load.managedBytes + bytes, g.maxmem);
        if (groupAfter !== undefined && after !== groupAfter) break;
        if (this.refuses(t.load.usedBytes, ct, g.maxmem)) continue;
        groupAfter = after;
        if (after < bestAfter || (after === bestAfter && best !== undefined && t.order < best.order)) {
          best = t;
          bestAfter = after;
        }
      }
    }
    return best;
  }

  /**
   * The fitting target that leaves source and target closest in load, and that spread; among equal
   * spreads the first in node order. Along a sorted group the spread falls, then rises, so each
   * group's best is next to where the target's load after the move passes the source's.
   * (Plain loops: this runs once per container of every source.)
   */
  closest(ct: ContainerState, bytes: number, sourceAfter: number): Closest | undefined {
    let best: Target | undefined;
    let bestSpread = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) {
      const end = this.fitEnd(g, bytes);
      // The first target whose load after the move is at least the source's.
      let lo = 0;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (percentOf((g.items[mid] as Target).load.managedBytes + bytes, g.maxmem) >= sourceAfter) hi = mid;
        else lo = mid + 1;
      }
      // Below it the spread grows as the index falls; from it on, as the index rises.
      for (let side = 0; side < 2; side++) {
        const step = side === 0 ? -1 : 1;
        const stop = side === 0 ? -1 : end;
        let found: number | undefined;
        for (let i = side === 0 ? lo - 1 : lo; i !== stop; i += step) {
          const t = g.items[i] as Target;
          const spread = Math.abs(sourceAfter - percentOf(t.load.managedBytes + bytes, g.maxmem));
          if (found !== undefined && spread !== found) break;
          if (this.refuses(t.load.usedBytes, ct, g.maxmem)) continue;
          found = spread;
          if (best === undefined || spread < bestSpread || (spread === bestSpread && t.order < best.order)) {
            best = t;
            bestSpread = spread;
          }
        }
      }
    }
    return best === undefined ? undefined : { target: best, spread: bestSpread };
  }

  /** Items [0, end) of a group stay under the threshold with `bytes` more; the rest would pass it. */
  private fitEnd(g: Group, bytes: number): number {
    let lo = 0;
    let hi = g.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (passes((g.items[mid] as Target).load.managedBytes + bytes, g.maxmem, this.policy.migratePercent))
        hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Its whole limit, not today's use: a container that grows after the move must not OOM the target. */
  private refuses(usedBytes: number, ct: ContainerState, maxmem: number): boolean {
    return usedBytes + ct.maxmem > this.policy.admissionShare * maxmem;
  }

  private insert(t: Target): void {
    let g = this.groups.get(t.load.maxmem);
    if (!g) this.groups.set(t.load.maxmem, (g = { maxmem: t.load.maxmem, items: [], minUsed: [] }));
    let at = 0;
    let hi = g.items.length;
    while (at < hi) {
      const mid = (at + hi) >>> 1;
      if (compareTargets(g.items[mid] as Target, t) > 0) hi = mid;
      else at = mid + 1;
    }
    g.items.splice(at, 0, t);
    refreshMinUsed(g, at);
    this.byLoad.set(t.load, t);
    this.size++;
  }

  private remove(t: Target): void {
    const g = this.groups.get(t.load.maxmem) as Group;
    const at = g.items.indexOf(t);
    g.items.splice(at, 1);
    g.minUsed.length = g.items.length;
    refreshMinUsed(g, at);
    this.byLoad.delete(t.load);
    this.size--;
  }
}

function compareTargets(a: Target, b: Target): number {
  return a.load.managedBytes - b.load.managedBytes || a.order - b.order;
}

function refreshMinUsed(g: Group, from: number): void {
  for (let i = from; i < g.items.length; i++) {
    const used = (g.items[i] as Target).load.usedBytes;
    g.minUsed[i] = i === 0 ? used : Math.min(g.minUsed[i - 1] as number, used);
  }
}

/** Pairs of (footprint, limit) in bytes. */
class SizeSet {
  private readonly byBytes = new Map<number, Set<number>>();

  has(bytes: number, maxmem: number): boolean {
    return this.byBytes.get(bytes)?.has(maxmem) ?? false;
  }

  /** false when the pair was there already. */
  add(bytes: number, maxmem: number): boolean {
    let limits = this.byBytes.get(bytes);
    if (!limits) this.byBytes.set(bytes, (limits = new Set()));
    if (limits.has(maxmem)) return false;
    limits.add(maxmem);
    return true;
  }
}

/** Candidates arrive ordered by vmid, so a strict comparison keeps the lowest vmid among equals. */
function bestFit(source: NodeLoad, candidates: readonly Candidate[], targets: Targets): Move | undefined {
  let best: Move | undefined;
  let bestSpread = Number.POSITIVE_INFINITY;
  // What a candidate can do depends only on its footprint and its limit, and among equals the first
  // wins, so a candidate like one already weighed is skipped: nodes hold many containers of a size.
  const weighed = new SizeSet();
  for (const { ct, bytes } of candidates) {
    if (!weighed.add(bytes, ct.maxmem)) continue;
    const sourceAfter = percentOf(source.managedBytes - bytes, source.maxmem);
    const found = targets.closest(ct, bytes, sourceAfter);
    if (found && (best === undefined || found.spread < bestSpread)) {
      best = { ct, target: found.target.load, bytes };
      bestSpread = found.spread;
    }
  }
  return best;
}

function describe(move: Move, source: NodeLoad, why: string): { action: Action; move: Move } {
  const sourceAfter = { ...source, managedBytes: source.managedBytes - move.bytes };
  const targetAfter = { ...move.target, managedBytes: move.target.managedBytes + move.bytes };
  const reason =
    `${source.node} holds ${formatPercent(loadPercent(source))} of its memory in managed containers; ` +
    `moving CT ${move.ct.vmid} (${formatMiB(move.bytes)}) to ${move.target.node} ${why}: ` +
    `${source.node} ${formatPercent(loadPercent(source))} → ${formatPercent(loadPercent(sourceAfter))}, ` +
    `${move.target.node} ${formatPercent(loadPercent(move.target))} → ${formatPercent(loadPercent(targetAfter))}`;
  return {
    action: { kind: 'migrate', vmid: move.ct.vmid, from: source.node, to: move.target.node, reason },
    move,
  };
}
