// The lab migrate rule as it was before it was optimised (commit 63a3afd), kept only as the oracle of
// lab-rules-equivalence.test.ts: the optimised rule must decide exactly as this one does.

import type { Action, ContainerState } from '../../../../src/domain';
import {
  compareNames,
  footprintBytes,
  isUnder,
  loadPercent,
  nodesPassing,
  passes,
  type NodeLoad,
} from '../../../../src/policy/capacity';
import { formatLoad, formatMiB, formatPercent } from '../../../../src/policy/format';
import { pickUniform } from '../../../../src/policy/pick';
import type { LabPolicy, LabRule } from '../../../../src/policy/rules/context';

interface Move {
  ct: ContainerState;
  target: NodeLoad;
  bytes: number;
}

export const referenceMigrateRule: LabRule = (ctx) => {
  const { policy } = ctx;
  // A working copy: each chosen move changes the loads the next source sees.
  const loads = ctx.loads.map((l) => ({ ...l }));
  const sources = nodesPassing(loads, policy.migratePercent).sort(
    (a, b) => loadPercent(b) - loadPercent(a) || compareNames(a.node, b.node),
  );
  // A node shedding this cycle takes nothing back in the same cycle: that would only be churn.
  const shedding = sources.map((s) => s.node);
  const actions: Action[] = [];
  for (const source of sources) {
    const over = `${formatLoad(source)} is over the ${formatPercent(policy.migratePercent)} migrate threshold`;
    const targets = loads.filter(
      (l) => !shedding.includes(l.node) && isUnder(l.managedBytes, l.maxmem, policy.migratePercent),
    );
    if (targets.length === 0) {
      ctx.note(`${over}, but no node is under it`);
      continue;
    }
    const moves = admissibleMoves(ctx.actionable, source, targets, policy);
    if (moves.length === 0) {
      ctx.note(`${over}, but none of its containers fits on a node under it`);
      continue;
    }
    const chosen =
      policy.migrateChoice === 'best-fit'
        ? describe(bestFit(source, moves), source, 'evens the load best')
        : describe(
            randomMove(moves, ctx.random()),
            source,
            'drawn at random, to the least loaded node it fits on',
          );
    actions.push(chosen.action);
    source.managedBytes -= chosen.move.bytes;
    chosen.move.target.managedBytes += chosen.move.bytes;
    chosen.move.target.usedBytes += chosen.move.ct.maxmem;
  }
  return actions;
};

function admissibleMoves(
  actionable: readonly ContainerState[],
  source: NodeLoad,
  targets: readonly NodeLoad[],
  policy: LabPolicy,
): Move[] {
  const moves: Move[] = [];
  for (const ct of actionable) {
    if (ct.node !== source.node) continue;
    const bytes = footprintBytes(ct, policy.capacityBasis);
    // Moving a container that counts for nothing (stopped, on the used basis) relieves nobody.
    if (bytes <= 0) continue;
    for (const target of targets) {
      if (passes(target.managedBytes + bytes, target.maxmem, policy.migratePercent)) continue;
      // Its whole limit, not today's use: a container that grows after the move must not OOM the target.
      if (target.usedBytes + ct.maxmem > policy.admissionShare * target.maxmem) continue;
      moves.push({ ct, target, bytes });
    }
  }
  return moves;
}

function spreadAfter(source: NodeLoad, move: Move): number {
  const sourceAfter = loadPercent({ ...source, managedBytes: source.managedBytes - move.bytes });
  const targetAfter = loadPercent({ ...move.target, managedBytes: move.target.managedBytes + move.bytes });
  return Math.abs(sourceAfter - targetAfter);
}

/** Moves arrive ordered by vmid then target name, so a strict comparison breaks ties by those. */
function bestFit(source: NodeLoad, moves: readonly Move[]): Move {
  let best = moves[0] as Move;
  let bestSpread = spreadAfter(source, best);
  for (const move of moves.slice(1)) {
    const spread = spreadAfter(source, move);
    if (spread < bestSpread) {
      best = move;
      bestSpread = spread;
    }
  }
  return best;
}

function randomMove(moves: readonly Move[], u: number): Move {
  const vmids = [...new Set(moves.map((m) => m.ct.vmid))];
  const vmid = pickUniform(vmids, u);
  let chosen: Move | undefined;
  for (const move of moves) {
    if (move.ct.vmid !== vmid) continue;
    const after = loadPercent({ ...move.target, managedBytes: move.target.managedBytes + move.bytes });
    const chosenAfter = chosen
      ? loadPercent({ ...chosen.target, managedBytes: chosen.target.managedBytes + chosen.bytes })
      : Number.POSITIVE_INFINITY;
    if (after < chosenAfter) chosen = move;
  }
  return chosen as Move;
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
