// The typed Proxmox VE client the activities use: one method per API call they need, each answer
// parsed with zod, each failure a PveError. Built from the connection settings src/config holds.

import { readFileSync } from 'node:fs';
import { proxmoxApi, type Proxmox } from 'proxmox-api';
import type { ClusterSnapshot } from '../domain';
import {
  describeConnection,
  pveConnectionSchema,
  type PveConnection,
  type PveConnectionInput,
} from './config';
import { PveError } from './errors';
import {
  clusterResourcesSchema,
  containerConfigSchema,
  containerStatusSchema,
  nextIdSchema,
  nodeStatusSchema,
  nullSchema,
  parseResponse,
  permissionsSchema,
  poolListSchema,
  snapshotListSchema,
  storageContentSchema,
  taskListSchema,
  taskLogSchema,
  taskStatusSchema,
  upidSchema,
  versionSchema,
  nodeListEntrySchema,
  type ClusterResource,
  type ContainerConfig,
  type ContainerRuntimeStatus,
  type NodeListEntry,
  type NodeStatusDetail,
  type PoolEntry,
  type PveVersion,
  type SnapshotEntry,
  type StorageVolume,
  type TaskLogLine,
  type TaskStatus,
  type TaskSummary,
} from './schemas';
import { toClusterSnapshot } from './snapshot';
import { createPveFetch, type PveFetchFn } from './tls';
import { PveTransport } from './transport';
import { parseUpid } from './upid';
import { z } from 'zod';

/** A task id as returned by every long-running call. */
export type Upid = string;

export interface CreateContainerSpec {
  vmid: number;
  /** Volume id of the template, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
  ostemplate: string;
  hostname?: string;
  /** MiB. */
  memory?: number;
  /** MiB. */
  swap?: number;
  cores?: number;
  cpulimit?: number;
  /** `storage:GiB`, e.g. `local-lvm:8`. */
  rootfs?: string;
  /** e.g. `name=eth0,bridge=vmbr0,ip=dhcp`. */
  net0?: string;
  pool?: string;
  tags?: readonly string[];
  description?: string;
  start?: boolean;
  onboot?: boolean;
  unprivileged?: boolean;
  /** Root password inside the CT; redacted from every error. */
  password?: string;
  sshPublicKeys?: string;
}

export interface ConfigChanges {
  cores?: number;
  /** MiB. */
  memory?: number;
  /** MiB. */
  swap?: number;
  cpulimit?: number;
  tags?: readonly string[];
  description?: string;
  /** Keys to remove from the config. */
  delete?: readonly string[];
}

export interface ShutdownOptions {
  /** Seconds PVE waits for a clean shutdown (PVE default 60). */
  timeout?: number;
  /** Kill the CT when the timeout passes instead of failing the task with `container did not stop`. */
  forceStop?: boolean;
}

export interface MigrateOptions {
  target: string;
  /** Restart migration: shut down, move, start on the target (the only way to move a running CT). */
  restart?: boolean;
  /** Live migration; PVE accepts the flag for CTs and then fails the task. */
  online?: boolean;
  /** KiB/s. */
  bwlimit?: number;
  /** Seconds to wait for the shutdown of a restart migration (PVE default 180). */
  timeout?: number;
  targetStorage?: string;
}

export interface DestroyOptions {
  /** Also remove the CT from backup jobs, replication, HA and pools. */
  purge?: boolean;
  /** Destroy even if running. */
  force?: boolean;
  destroyUnreferencedDisks?: boolean;
}

export interface TaskListOptions {
  vmid?: number;
  typefilter?: string;
  source?: 'active' | 'archive' | 'all';
  limit?: number;
  /** Epoch seconds. */
  since?: number;
  errors?: boolean;
}

export interface PveClient {
  /** `https://host:8006 as token root@pam!x (pinned AB:CD…)`: for logs, without secrets. */
  describe(): string;
  version(): Promise<PveVersion>;
  nodes(): Promise<NodeListEntry[]>;
  nodeStatus(node: string): Promise<NodeStatusDetail>;
  clusterResources(type?: 'vm' | 'node' | 'storage'): Promise<ClusterResource[]>;
  /** GET /cluster/tasks: the recent tasks of every node (finished ones with their endtime). */
  clusterTasks(): Promise<TaskSummary[]>;
  /** One GET /cluster/resources mapped to the domain snapshot. */
  clusterSnapshot(): Promise<ClusterSnapshot>;
  /** The next free vmid, or with `vmid` that id if free (otherwise invalid-parameter on `vmid`). */
  nextId(vmid?: number): Promise<number>;
  containerConfig(node: string, vmid: number): Promise<ContainerConfig>;
  containerStatus(node: string, vmid: number): Promise<ContainerRuntimeStatus>;
  /** Synchronous config change guarded by `digest` (stale-digest when the config moved on). */
  updateConfig(node: string, vmid: number, changes: ConfigChanges, digest: string): Promise<void>;
  createContainer(node: string, spec: CreateContainerSpec): Promise<Upid>;
  startContainer(node: string, vmid: number): Promise<Upid>;
  stopContainer(node: string, vmid: number): Promise<Upid>;
  shutdownContainer(node: string, vmid: number, options?: ShutdownOptions): Promise<Upid>;
  migrateContainer(node: string, vmid: number, options: MigrateOptions): Promise<Upid>;
  destroyContainer(node: string, vmid: number, options?: DestroyOptions): Promise<Upid>;
  snapshots(node: string, vmid: number): Promise<SnapshotEntry[]>;
  createSnapshot(node: string, vmid: number, name: string, description?: string): Promise<Upid>;
  rollbackSnapshot(node: string, vmid: number, name: string, options?: { start?: boolean }): Promise<Upid>;
  deleteSnapshot(node: string, vmid: number, name: string, options?: { force?: boolean }): Promise<Upid>;
  taskStatus(node: string, upid: Upid): Promise<TaskStatus>;
  taskLog(node: string, upid: Upid, options?: { start?: number; limit?: number }): Promise<TaskLogLine[]>;
  tasks(node: string, options?: TaskListOptions): Promise<TaskSummary[]>;
  pools(): Promise<PoolEntry[]>;
  /** GET /access/permissions: the caller's effective privileges, path → privilege → propagate. */
  permissions(path?: string): Promise<Record<string, Record<string, number>>>;
  storageContent(node: string, storage: string, content?: string): Promise<StorageVolume[]>;
  /** Closes the HTTP agent; the client is unusable afterwards. */
  close(): Promise<void>;
}

export interface PveClientDeps {
  /** Replaces the TLS fetch (unit tests answer from memory). */
  fetch?: PveFetchFn;
  /** Clock for ClusterSnapshot.takenAt; defaults to Date.now. */
  now?: () => number;
}

// Inputs that become URL path segments are checked here: a node named `..` must not reach another
// API path, and a bad id is better refused before a round trip.
const NODE = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
const SNAPNAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,39}$/;
const STORAGE = /^[a-zA-Z][a-zA-Z0-9._-]*$/;

function invalid(field: string, message: string): PveError {
  return new PveError({
    kind: 'invalid-parameter',
    fields: { [field]: message },
    message: `invalid ${field}: ${message}`,
  });
}

function checkNode(node: string, field = 'node'): string {
  if (!NODE.test(node)) throw invalid(field, `'${node}' is not a node name`);
  return node;
}

function checkVmid(vmid: number): number {
  if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999)
    throw invalid('vmid', `${vmid} is not a vmid (100 - 999999999)`);
  return vmid;
}

function checkSnapname(name: string): string {
  if (!SNAPNAME.test(name)) throw invalid('snapname', `'${name}' is not a snapshot name`);
  return name;
}

function checkStorage(storage: string): string {
  if (!STORAGE.test(storage)) throw invalid('storage', `'${storage}' is not a storage id`);
  return storage;
}

function checkUpid(upid: string): string {
  if (!parseUpid(upid)) throw invalid('upid', `'${upid}' is not a UPID`);
  return upid;
}

function joinTags(tags: readonly string[] | undefined): string | undefined {
  return tags === undefined ? undefined : tags.join(';');
}

function readCa(caFile: string): Buffer {
  try {
    return readFileSync(caFile);
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : 'unreadable';
    throw invalid('caFile', `cannot read '${caFile}' (${code})`);
  }
}

function parseConnection(options: PveConnectionInput): PveConnection {
  const result = pveConnectionSchema.safeParse(options);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) fields[issue.path.join('.') || '(root)'] ??= issue.message;
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  throw new PveError({
    kind: 'invalid-parameter',
    fields,
    message: `invalid Proxmox connection settings: ${text}`,
  });
}

/** Builds a client; validates the settings and reads the CA file now, so a bad config fails at start. */
export function createPveClient(options: PveConnectionInput, deps: PveClientDeps = {}): PveClient {
  const connection = parseConnection(options);
  const tls =
    deps.fetch === undefined
      ? createPveFetch({
          ca: connection.tls.caFile !== undefined ? readCa(connection.tls.caFile) : undefined,
          fingerprint: connection.tls.fingerprint,
          timeoutMs: connection.timeoutMs,
        })
      : { fetch: deps.fetch, close: async () => {} };
  const api: Proxmox.Api = proxmoxApi(new PveTransport(connection, tls.fetch));
  const now = deps.now ?? Date.now;

  async function read<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    call: () => Promise<unknown>,
  ): Promise<z.output<S>> {
    return parseResponse(schema, await call(), { method, path });
  }

  const ct = (node: string, vmid: number) => api.nodes.$(checkNode(node)).lxc.$(checkVmid(vmid));
  const ctPath = (node: string, vmid: number) => `/nodes/${node}/lxc/${vmid}`;

  const client: PveClient = {
    describe: () => describeConnection(connection),

    version: () => read(versionSchema, 'GET', '/version', () => api.version.$get()),

    nodes: () => read(z.array(nodeListEntrySchema), 'GET', '/nodes', () => api.nodes.$get()),

    nodeStatus: (node) =>
      read(nodeStatusSchema, 'GET', `/nodes/${node}/status`, () =>
        api.nodes.$(checkNode(node)).status.$get(),
      ),

    clusterResources: (type) =>
      read(clusterResourcesSchema, 'GET', '/cluster/resources', () => api.cluster.resources.$get({ type })),

    clusterTasks: () => read(taskListSchema, 'GET', '/cluster/tasks', () => api.cluster.tasks.$get()),

    async clusterSnapshot() {
      const resources = await client.clusterResources();
      return toClusterSnapshot(resources, now());
    },

    nextId: (vmid) =>
      read(nextIdSchema, 'GET', '/cluster/nextid', () =>
        api.cluster.nextid.$get({ vmid: vmid === undefined ? undefined : checkVmid(vmid) }),
      ),

    containerConfig: (node, vmid) =>
      read(containerConfigSchema, 'GET', `${ctPath(node, vmid)}/config`, () => ct(node, vmid).config.$get()),

    containerStatus: (node, vmid) =>
      read(containerStatusSchema, 'GET', `${ctPath(node, vmid)}/status/current`, () =>
        ct(node, vmid).status.current.$get(),
      ),

    async updateConfig(node, vmid, changes, digest) {
      const params = {
        cores: changes.cores,
        memory: changes.memory,
        swap: changes.swap,
        cpulimit: changes.cpulimit,
        tags: joinTags(changes.tags),
        description: changes.description,
        delete: changes.delete === undefined ? undefined : changes.delete.join(','),
      };
      // Nothing to change: PVE would refuse an empty update; the goal already holds.
      if (Object.values(params).every((v) => v === undefined)) return;
      await read(nullSchema, 'PUT', `${ctPath(node, vmid)}/config`, () =>
        ct(node, vmid).config.$put({ ...params, digest }),
      );
    },

    createContainer: (node, spec) =>
      read(upidSchema, 'POST', `/nodes/${node}/lxc`, () =>
        api.nodes.$(checkNode(node)).lxc.$post({
          vmid: checkVmid(spec.vmid),
          ostemplate: spec.ostemplate,
          hostname: spec.hostname,
          memory: spec.memory,
          swap: spec.swap,
          cores: spec.cores,
          cpulimit: spec.cpulimit,
          rootfs: spec.rootfs,
          net0: spec.net0,
          pool: spec.pool,
          tags: joinTags(spec.tags),
          description: spec.description,
          start: spec.start,
          onboot: spec.onboot,
          unprivileged: spec.unprivileged,
          password: spec.password,
          'ssh-public-keys': spec.sshPublicKeys,
        }),
      ),

    startContainer: (node, vmid) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/status/start`, () =>
        ct(node, vmid).status.start.$post(),
      ),

    stopContainer: (node, vmid) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/status/stop`, () => ct(node, vmid).status.stop.$post()),

    shutdownContainer: (node, vmid, options = {}) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/status/shutdown`, () =>
        ct(node, vmid).status.shutdown.$post({ timeout: options.timeout, forceStop: options.forceStop }),
      ),

    migrateContainer: (node, vmid, options) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/migrate`, () =>
        ct(node, vmid).migrate.$post({
          target: checkNode(options.target, 'target'),
          restart: options.restart,
          online: options.online,
          bwlimit: options.bwlimit,
          timeout: options.timeout,
          'target-storage': options.targetStorage,
        }),
      ),

    destroyContainer: (node, vmid, options = {}) =>
      read(upidSchema, 'DELETE', ctPath(node, vmid), () =>
        ct(node, vmid).$delete({
          purge: options.purge,
          force: options.force,
          'destroy-unreferenced-disks': options.destroyUnreferencedDisks,
        }),
      ),

    snapshots: (node, vmid) =>
      read(snapshotListSchema, 'GET', `${ctPath(node, vmid)}/snapshot`, () => ct(node, vmid).snapshot.$get()),

    createSnapshot: (node, vmid, name, description) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/snapshot`, () =>
        ct(node, vmid).snapshot.$post({ snapname: checkSnapname(name), description }),
      ),

    rollbackSnapshot: (node, vmid, name, options = {}) =>
      read(upidSchema, 'POST', `${ctPath(node, vmid)}/snapshot/${name}/rollback`, () =>
        ct(node, vmid).snapshot.$(checkSnapname(name)).rollback.$post({ start: options.start }),
      ),

    deleteSnapshot: (node, vmid, name, options = {}) =>
      read(upidSchema, 'DELETE', `${ctPath(node, vmid)}/snapshot/${name}`, () =>
        ct(node, vmid).snapshot.$(checkSnapname(name)).$delete({ force: options.force }),
      ),

    taskStatus: (node, upid) =>
      read(taskStatusSchema, 'GET', `/nodes/${node}/tasks/${upid}/status`, () =>
        api.nodes.$(checkNode(node)).tasks.$(checkUpid(upid)).status.$get(),
      ),

    taskLog: (node, upid, options = {}) =>
      read(taskLogSchema, 'GET', `/nodes/${node}/tasks/${upid}/log`, () =>
        api.nodes
          .$(checkNode(node))
          .tasks.$(checkUpid(upid))
          .log.$get({ start: options.start, limit: options.limit }),
      ),

    tasks: (node, options = {}) =>
      read(taskListSchema, 'GET', `/nodes/${node}/tasks`, () =>
        api.nodes.$(checkNode(node)).tasks.$get({
          vmid: options.vmid === undefined ? undefined : checkVmid(options.vmid),
          typefilter: options.typefilter,
          source: options.source,
          limit: options.limit,
          since: options.since,
          errors: options.errors,
        }),
      ),

    pools: () => read(poolListSchema, 'GET', '/pools', () => api.pools.$get()),

    permissions: (path) =>
      read(permissionsSchema, 'GET', '/access/permissions', () =>
        api.access.permissions.$get(path === undefined ? {} : { path }),
      ),

    storageContent: (node, storage, content) =>
      read(storageContentSchema, 'GET', `/nodes/${node}/storage/${storage}/content`, () =>
        api.nodes.$(checkNode(node)).storage.$(checkStorage(storage)).content.$get({ content }),
      ),

    close: () => tls.close(),
  };
  return client;
}
