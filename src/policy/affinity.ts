// Affinity rules, decided: who is a member of which rule, whether putting a member on a node breaks
// a rule, which rules the cluster breaks now, and which nodes a new container may go to. Pure; the
// projection calls affinityProblem for every move of every rule, the affinity rule repairs.

import type { Action, ContainerState } from '../domain';
import type { AffinityRule } from './affinity-config';
import type { ProjectedCluster } from './projected-cluster';

export type { AffinityRule, AffinityKind } from './affinity-config';
export { affinityRuleSchema, affinityRulesSchema, affinityKinds, pinProblems } from './affinity-config';

/** What membership is decided on: a new container has no vmid yet, only its pool and tags. */
export interface MemberFacts {
  vmid?: number;
  pool?: string;
  tags: readonly string[];
  template?: boolean;
}

export function isMember(rule: AffinityRule, ct: MemberFacts): boolean {
  if (ct.template === true) return false;
  if (rule.vmids !== undefined) return ct.vmid !== undefined && rule.vmids.includes(ct.vmid);
  if (rule.pool !== undefined) return ct.pool === rule.pool;
  if (rule.tag !== undefined) return ct.tags.includes(rule.tag);
  return false;
}

/** The rules of a round with their members in the observation, built once per projection. */
export interface AffinityIndex {
  readonly rules: readonly AffinityRule[];
  /** Per rule (same order), its members' vmids, ascending. */
  readonly members: readonly number[][];
  /** vmid → the indexes of the rules it is a member of. */
  readonly byVmid: ReadonlyMap<number, number[]>;
}

export function indexAffinity(
  rules: readonly AffinityRule[],
  containers: readonly ContainerState[],
): AffinityIndex {
  const members: number[][] = rules.map(() => []);
  const byVmid = new Map<number, number[]>();
  for (const ct of containers) {
    rules.forEach((rule, i) => {
      if (!isMember(rule, ct)) return;
      members[i]?.push(ct.vmid);
      const list = byVmid.get(ct.vmid);
      if (list) list.push(i);
      else byVmid.set(ct.vmid, [i]);
    });
  }
  for (const list of members) list.sort((a, b) => a - b);
  return { rules, members, byVmid };
}

/** Where another member of a rule is (or will be, once the moves in flight and accepted land). */
export interface MemberPlace {
  vmid: number;
  node: string;
}

/**
 * Why putting one member of `rule` on `to` breaks it, or undefined. `from` is where the member is
 * now (undefined for a new container); `others` are the rule's other members. A move that leaves an
 * already broken rule no worse is allowed: repairs go one container at a time.
 */
export function breach(
  rule: AffinityRule,
  to: string,
  from: string | undefined,
  others: readonly MemberPlace[],
): string | undefined {
  switch (rule.kind) {
    case 'pin':
      return (rule.nodes ?? []).includes(to) ? undefined : `allowed only on ${(rule.nodes ?? []).join(', ')}`;
    case 'anti-affinity': {
      const there = others.find((o) => o.node === to);
      return there ? `would share ${to} with CT ${there.vmid}` : undefined;
    }
    case 'affinity': {
      if (others.length === 0) return undefined;
      const before = new Set(others.map((o) => o.node));
      if (from !== undefined) before.add(from);
      const after = new Set(others.map((o) => o.node)).add(to);
      if (after.size <= before.size) return undefined;
      const away = others.find((o) => o.node !== to) as MemberPlace;
      return `would be apart from CT ${away.vmid} on ${away.node}`;
    }
  }
}

export function describeRule(rule: AffinityRule): string {
  return `${rule.strict ? 'strict' : 'preferred'} ${rule.kind} rule '${rule.name}'`;
}

/** Where the projection has a container: moved by a migration in flight or accepted, or as observed. */
export function projectedNodeOf(cluster: ProjectedCluster, vmid: number): string | undefined {
  const placed = cluster.placed.get(vmid);
  if (placed !== undefined) return placed ?? undefined;
  return cluster.containers.get(vmid)?.node;
}

function othersOf(cluster: ProjectedCluster, ruleIndex: number, vmid: number): MemberPlace[] {
  const out: MemberPlace[] = [];
  for (const m of cluster.affinity?.members[ruleIndex] ?? []) {
    if (m === vmid) continue;
    const node = projectedNodeOf(cluster, m);
    if (node !== undefined) out.push({ vmid: m, node });
  }
  return out;
}

/**
 * The strict check every proposal of every rule passes through: why `action` would break a strict
 * affinity rule in the projected cluster, or undefined. Only migrations place containers in the
 * manager; a spread planner can call this for each of its moves against its own projection.
 */
export function affinityProblem(
  action: Action,
  cluster: ProjectedCluster,
  /** 'all': preferred rules too, as the affinity rule checks its own repairs (no ping-pong). */
  rules: 'strict' | 'all' = 'strict',
): string | undefined {
  const index = cluster.affinity;
  if (index === undefined || action.kind !== 'migrate') return undefined;
  for (const i of index.byVmid.get(action.vmid) ?? []) {
    const rule = index.rules[i] as AffinityRule;
    if (!rule.strict && rules === 'strict') continue;
    const why = breach(rule, action.to, action.from, othersOf(cluster, i, action.vmid));
    if (why) return `CT ${action.vmid} ${why}, against the ${describeRule(rule)}`;
  }
  return undefined;
}

/** One broken rule: which members are where they should not be. */
export interface Violation {
  rule: AffinityRule;
  /** The members to move, with the reason each is out of place. */
  misplaced: Array<{ vmid: number; node: string; why: string; home?: string }>;
}

/**
 * The rules the projected cluster breaks now. A pin is broken by each member off its nodes; an
 * anti-affinity by every member but one on a shared node (the lowest vmid stays, or one that
 * `movable` says cannot move); an affinity by every member off the node most of them share.
 */
export function affinityViolations(
  cluster: ProjectedCluster,
  movable: (vmid: number) => boolean = () => true,
): Violation[] {
  const index = cluster.affinity;
  if (index === undefined) return [];
  const out: Violation[] = [];
  index.rules.forEach((rule, i) => {
    const places = othersOf(cluster, i, -1);
    const misplaced = misplacedOf(rule, places, movable, cluster);
    if (misplaced.length > 0) out.push({ rule, misplaced });
  });
  return out;
}

function misplacedOf(
  rule: AffinityRule,
  places: readonly MemberPlace[],
  movable: (vmid: number) => boolean,
  cluster: ProjectedCluster,
): Violation['misplaced'] {
  switch (rule.kind) {
    case 'pin': {
      const allowed = rule.nodes ?? [];
      return places
        .filter((p) => !allowed.includes(p.node))
        .map((p) => ({ ...p, why: `is on ${p.node}, not one of ${allowed.join(', ')}` }));
    }
    case 'anti-affinity': {
      const out: Violation['misplaced'] = [];
      for (const [node, here] of byNode(places)) {
        if (here.length < 2) continue;
        // The one that stays: a member that cannot move if there is one, else the lowest vmid.
        const stays = here.find((p) => !movable(p.vmid)) ?? (here[0] as MemberPlace);
        for (const p of here) {
          if (p !== stays) out.push({ ...p, why: `shares ${node} with CT ${stays.vmid}` });
        }
      }
      return out;
    }
    case 'affinity': {
      const groups = byNode(places);
      if (groups.size < 2) return [];
      const home = homeOf(groups, movable, cluster);
      return places
        .filter((p) => p.node !== home)
        .map((p) => ({ ...p, why: `is on ${p.node}, apart from the members on ${home}`, home }));
    }
  }
}

/** Members by node, in vmid order within a node, nodes in name order. */
function byNode(places: readonly MemberPlace[]): Map<string, MemberPlace[]> {
  const sorted = [...places].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : a.vmid - b.vmid));
  const out = new Map<string, MemberPlace[]>();
  for (const p of sorted) {
    const list = out.get(p.node);
    if (list) list.push(p);
    else out.set(p.node, [p]);
  }
  return out;
}

/**
 * Where a split affinity group gathers: the node holding members that cannot move (they decide),
 * else the node with most members, then the one with most free memory, then by name.
 */
function homeOf(
  groups: ReadonlyMap<string, MemberPlace[]>,
  movable: (vmid: number) => boolean,
  cluster: ProjectedCluster,
): string {
  const free = (node: string): number => {
    const n = cluster.nodes.get(node);
    return n ? n.maxmem - n.usedBytes : 0;
  };
  const ranked = [...groups.entries()].map(([node, here]) => ({
    node,
    fixed: here.some((p) => !movable(p.vmid)) ? 1 : 0,
    count: here.length,
    free: free(node),
  }));
  ranked.sort(
    (a, b) => b.fixed - a.fixed || b.count - a.count || b.free - a.free || (a.node < b.node ? -1 : 1),
  );
  return (ranked[0] as { node: string }).node;
}

/** Where the members of every rule are, as a snapshot shows them: for placing new containers. */
export interface Placements {
  rules: readonly AffinityRule[];
  containers: readonly ContainerState[];
}

/**
 * The nodes a new container (with the pool and tags a provision gives it) may go to among
 * `candidates`: strict rules filter; preferred rules narrow further while some candidate is left.
 */
export function affinityPlacement(
  placements: Placements,
  member: MemberFacts,
  candidates: readonly string[],
): { nodes: string[]; why: string[] } {
  const rules = placements.rules.filter((r) => isMember(r, member));
  if (rules.length === 0) return { nodes: [...candidates], why: [] };
  const others = rules.map((rule) =>
    placements.containers.filter((ct) => isMember(rule, ct)).map((ct) => ({ vmid: ct.vmid, node: ct.node })),
  );
  const allowedBy = (strict: boolean, from: readonly string[]): string[] =>
    from.filter((node) =>
      rules.every((r, i) => r.strict !== strict || breach(r, node, undefined, others[i] ?? []) === undefined),
    );
  const strictOk = allowedBy(true, candidates);
  const preferredOk = allowedBy(false, strictOk);
  const why = rules.map((r) => describeRule(r));
  return { nodes: preferredOk.length > 0 ? preferredOk : strictOk, why };
}
