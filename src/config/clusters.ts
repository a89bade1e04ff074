// The Proxmox clusters a deployment runs. Without a `clusters:` list that is the one cluster of the
// top-level sections, unchanged. With one, each entry becomes a complete Config of its own: the
// entry's name, task queue and connection, its scope/manager/generator/container sections where it
// gives them (a section replaces the top-level one whole), the top-level sections elsewhere. So
// everything that takes a Config (policies, the Proxmox client, the CLI) serves one cluster as before.

import { proxmoxConnectionOf, type CompleteProxmoxSection } from './connection';
import { ConfigError } from './errors';
import type { Config } from './schema';

export interface ClusterConfig {
  name: string;
  taskQueue: string;
  /** Where its settings are in the file: `clusters[1]`, or '' for the top level. */
  path: string;
  /** A single-cluster Config: cluster.name, temporal.taskQueue and proxmox are this cluster's. */
  config: Config;
}

export function clustersOf(config: Config): ClusterConfig[] {
  if (config.clusters === undefined) {
    return [{ name: config.cluster.name, taskQueue: config.temporal.taskQueue, path: '', config }];
  }
  return config.clusters.map((entry, i) => {
    // One queue per cluster keeps a cluster's workflows, and their child sagas, on the workers that
    // hold that cluster's Proxmox client.
    const taskQueue = entry.taskQueue ?? `${config.temporal.taskQueue}-${entry.name}`;
    const { clusters: _all, ...shared } = config;
    return {
      name: entry.name,
      taskQueue,
      path: `clusters[${i}]`,
      config: {
        ...shared,
        cluster: { name: entry.name },
        temporal: { ...config.temporal, taskQueue },
        proxmox: entry.proxmox,
        scope: entry.scope ?? config.scope,
        manager: entry.manager ?? config.manager,
        generator: entry.generator ?? config.generator,
        container: entry.container ?? config.container,
        zones: entry.zones ?? config.zones,
      },
    };
  });
}

/**
 * The cluster a CLI command acts on: `--cluster NAME`, or the only one. A config with several
 * clusters needs the option; a name the config does not have is an error that lists the names.
 */
export function selectCluster(config: Config, name: string | undefined): ClusterConfig {
  const all = clustersOf(config);
  const names = all.map((c) => c.name).join(', ');
  if (name === undefined) {
    const [only] = all;
    if (all.length === 1 && only) return only;
    throw new ConfigError([
      {
        path: 'clusters',
        message: `the config names several clusters (${names}); choose one with --cluster NAME`,
      },
    ]);
  }
  const found = all.find((c) => c.name === name);
  if (found) return found;
  throw new ConfigError([
    { path: 'clusters', message: `--cluster ${name}: no such cluster in the config; it has ${names}` },
  ]);
}

/** The cluster's Proxmox connection, complete; a missing field is named where it is in the file. */
export function clusterConnectionOf(cluster: ClusterConfig): CompleteProxmoxSection {
  try {
    return proxmoxConnectionOf(cluster.config);
  } catch (err) {
    if (!(err instanceof ConfigError) || cluster.path === '') throw err;
    throw new ConfigError(err.problems.map((p) => ({ ...p, path: `${cluster.path}.${p.path}` })));
  }
}
