// Failure domains: the `zones:` config maps a zone name to its nodes. A node of the cluster that no
// zone names is a zone of its own (its name is the zone's), so spreading over nodes and zones also
// works on a cluster with no zones configured.

/** Zone name → node names; every node in at most one zone (the config checks it). */
export type Zones = Record<string, string[]>;

/** Node name → zone name, for the nodes some zone names. */
export type ZoneIndex = ReadonlyMap<string, string>;

export function zoneIndex(zones: Zones | undefined): ZoneIndex {
  const index = new Map<string, string>();
  for (const [zone, nodes] of Object.entries(zones ?? {})) for (const node of nodes) index.set(node, zone);
  return index;
}

/** The node's configured zone, or the node's own name: a node in no zone is its own zone. */
export function zoneOf(index: ZoneIndex, node: string): string {
  return index.get(node) ?? node;
}

export interface ZoneProblems {
  /** Configured nodes the cluster does not have, and zones named like a node outside them. */
  errors: Array<{ path: string; message: string }>;
  /** Cluster nodes no zone names (each is then its own zone). */
  warnings: string[];
}

/**
 * Checks the zones against the cluster's node names. Needs the cluster, so it runs where the
 * cluster is read (`config validate --online`, `spread check`, `status`, the spread rule's notes).
 */
export function zoneProblems(zones: Zones | undefined, clusterNodes: readonly string[]): ZoneProblems {
  const errors: ZoneProblems['errors'] = [];
  const warnings: string[] = [];
  const configured = Object.entries(zones ?? {});
  if (configured.length === 0) return { errors, warnings };
  const known = new Set(clusterNodes);
  const index = zoneIndex(zones);
  for (const [zone, nodes] of configured) {
    for (const node of nodes) {
      if (!known.has(node)) {
        const has = [...known].sort().join(', ');
        errors.push({
          path: `zones.${zone}`,
          message: `node '${node}' is not in the cluster (it has ${has})`,
        });
      }
    }
    // An unzoned node is its own zone, by its name: a zone of that name would merge the two.
    if (known.has(zone) && index.get(zone) !== zone) {
      errors.push({
        path: `zones.${zone}`,
        message: `a zone may not be named like the cluster node '${zone}', which is not in it`,
      });
    }
  }
  for (const node of [...known].sort()) {
    if (!index.has(node)) warnings.push(`node '${node}' is in no zone; it counts as a zone of its own`);
  }
  return { errors, warnings };
}

/** The cluster's nodes grouped by zone, configured zones first (by name), then the unzoned nodes. */
export function zonesOfCluster(
  zones: Zones | undefined,
  clusterNodes: readonly string[],
): Array<{ zone: string; nodes: string[]; configured: boolean }> {
  const index = zoneIndex(zones);
  const out = new Map<string, { zone: string; nodes: string[]; configured: boolean }>();
  for (const node of [...clusterNodes].sort()) {
    const configured = index.has(node);
    const zone = zoneOf(index, node);
    let entry = out.get(zone);
    if (!entry) out.set(zone, (entry = { zone, nodes: [], configured }));
    entry.nodes.push(node);
  }
  return [...out.values()].sort(
    (a, b) => Number(b.configured) - Number(a.configured) || (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0),
  );
}

/** `zone-a (pve-a1, pve-a2), zone-b (pve-b1); no zone: pve-x1`, for plan and status headers. */
export function describeZones(zones: Zones | undefined, clusterNodes: readonly string[]): string {
  const all = zonesOfCluster(zones, clusterNodes);
  const configured = all.filter((z) => z.configured).map((z) => `${z.zone} (${z.nodes.join(', ')})`);
  const alone = all.filter((z) => !z.configured).map((z) => z.zone);
  if (configured.length === 0) return 'none configured: every node is a zone of its own';
  return configured.join(', ') + (alone.length > 0 ? `; no zone: ${alone.join(', ')}` : '');
}
