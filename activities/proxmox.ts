// Proxmox activities, ensure-style and idempotent: each reads the current state first and does
// nothing when its goal already holds. Long operations are split in two so the workflow keeps the
// UPID in its history: request* starts a task (or adopts the one in flight, or reports that there is
// nothing to do) and awaitTask waits for it while heartbeating.
import { Context } from '@temporalio/activity';
import {
  describeScope,
  encodeObservation,
  isManaged,
  isOwnedBy,
  ownerMarker,
  type Observation,
  type ContainerStatus,
  type ManagedScope,
} from '../src/domain';
import {
  findActiveTask,
  isPveError,
  recentlyFreedVmids,
  splitTags,
  waitForTask,
  type ConfigChanges,
  type CreateContainerSpec,
  type PveClient,
  type Upid,
} from '../src/proxmox';
import { ActivityFailureType, asActivity, refuse } from './failures';

export interface ProxmoxActivityDeps {
  pve: PveClient;
  scope: ManagedScope;
  /** A vmid freed by a destroy this recently is not handed out again (config container.vmidQuarantineMinutes). */
  vmidQuarantineMinutes: number;
  /** awaitTask's first poll interval (it then backs off to 5 s); default 500 ms. */
  taskPollMs?: number;
  /** awaitTask's longest poll interval; default 5000 ms (tests on a fast simulator set less). */
  taskPollMaxMs?: number;
}

/** What a request* activity did. `upid` null: the goal already held, there is nothing to wait for. */
export interface TaskRequest {
  node: string;
  upid: string | null;
  note: 'started' | 'adopted' | 'already-done';
}

/** One container as a saga sees it: where it is, how it runs, and its config with the digest. */
export interface ContainerFacts {
  vmid: number;
  node: string;
  status: ContainerStatus;
  name: string;
  lock?: string;
  cores: number;
  memoryMiB: number;
  swapMiB: number;
  digest: string;
  /** From status/current: what the running container really has. */
  liveMaxmemBytes: number;
  liveCpus: number;
  description: string;
}

export interface CreateRequest {
  node: string;
  spec: CreateContainerSpec;
  /** The workflow id written into the description, so a retry recognises its own container. */
  owner: string;
}

export function createProxmoxActivities(deps: ProxmoxActivityDeps) {
  const { pve, scope } = deps;

  /**
   * The write guard of every activity that changes something, from the worker's own scope (never
   * from a workflow input): the range, and the pool and tag when configured, read from the CT
   * itself. A CT that does not exist (yet) is checked on its vmid alone: a create puts the pool and
   * tag on it, and there is nothing to protect on an id that holds nothing.
   */
  async function assertManaged(vmid: number): Promise<void> {
    if (vmid < scope.vmidMin || vmid > scope.vmidMax) {
      throw refuse(
        ActivityFailureType.notManaged,
        `CT ${vmid} is outside the managed range ${scope.vmidMin}-${scope.vmidMax}; pve-autopilot leaves it alone`,
      );
    }
    if (scope.pool === undefined && scope.tag === undefined) return;
    const guest = await asActivity(async () =>
      (await pve.clusterResources('vm')).find((g) => g.vmid === vmid),
    );
    if (!guest) return;
    const facts = {
      vmid,
      template: guest.template === true,
      tags: splitTags(guest.tags),
      ...(guest.pool ? { pool: guest.pool } : {}),
    };
    if (!isManaged(facts, scope)) {
      throw refuse(
        ActivityFailureType.notManaged,
        `CT ${vmid} is outside the managed scope (${describeScope(scope)}); pve-autopilot leaves it alone`,
      );
    }
  }

  async function locate(vmid: number): Promise<string | null> {
    const guests = await pve.clusterResources('vm');
    return guests.find((g) => g.vmid === vmid && g.type === 'lxc')?.node ?? null;
  }

  async function status(node: string, vmid: number): Promise<ContainerStatus> {
    return (await pve.containerStatus(node, vmid)).status;
  }

  /** Adopts the task of `type` in flight for the CT, or starts one with `post`. */
  async function startOrAdopt(
    node: string,
    vmid: number,
    type: string,
    post: () => Promise<Upid>,
  ): Promise<TaskRequest> {
    const active = await findActiveTask(pve, node, vmid, type);
    if (active) return { node, upid: active.upid, note: 'adopted' };
    try {
      return { node, upid: await post(), note: 'started' };
    } catch (err) {
      // proxmox-api sends a POST again after a network error: the second copy meets our own lock.
      if (isPveError(err) && err.kind === 'locked') {
        const again = await findActiveTask(pve, node, vmid, type);
        if (again) return { node, upid: again.upid, note: 'adopted' };
      }
      throw err;
    }
  }

  const done = (node: string): TaskRequest => ({ node, upid: null, note: 'already-done' });

  return {
    /** The managed scope of this worker's configuration: what sagas check their container against. */
    async managedScope(): Promise<ManagedScope> {
      return Promise.resolve({ ...scope });
    },

    /** The whole cluster in one GET /cluster/resources, in the compact form history keeps. */
    async observeCluster(): Promise<Observation> {
      return asActivity(async () => encodeObservation(await pve.clusterSnapshot()));
    },

    /** Where the CT is and how it runs; null when it does not exist. */
    async readContainer(input: { vmid: number }): Promise<ContainerFacts | null> {
      return asActivity(async () => {
        const node = await locate(input.vmid);
        if (node === null) return null;
        const [config, current] = await Promise.all([
          pve.containerConfig(node, input.vmid),
          pve.containerStatus(node, input.vmid),
        ]);
        return {
          vmid: input.vmid,
          node,
          status: current.status,
          name: current.name ?? config.hostname ?? '',
          ...(current.lock || config.lock ? { lock: current.lock ?? config.lock } : {}),
          cores: config.cores ?? 1,
          memoryMiB: config.memory ?? 512,
          swapMiB: config.swap ?? 512,
          digest: config.digest,
          liveMaxmemBytes: current.maxmem ?? 0,
          liveCpus: current.cpus ?? 0,
          description: config.description ?? '',
        };
      });
    },

    /**
     * The lowest free vmid in the managed range, skipping `skip` (ids a caller found taken) and ids a
     * destroy freed in the last vmidQuarantineMinutes: PVE reuses ids, and a new container on a
     * just-dropped one's id would be taken for it by anything still looking at the old one.
     */
    async allocateVmid(input: { skip: number[] }): Promise<number | null> {
      return asActivity(async () => {
        const [guests, recent] = await Promise.all([pve.clusterResources('vm'), pve.clusterTasks()]);
        const taken = new Set(guests.map((g) => g.vmid));
        for (const id of input.skip) taken.add(id);
        for (const id of recentlyFreedVmids(recent, deps.vmidQuarantineMinutes * 60)) taken.add(id);
        for (let id = scope.vmidMin; id <= scope.vmidMax; id++) if (!taken.has(id)) return id;
        return null;
      });
    },

    async requestShutdown(input: {
      node: string;
      vmid: number;
      timeoutSeconds: number;
    }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        if ((await status(input.node, input.vmid)) === 'stopped') return done(input.node);
        return startOrAdopt(input.node, input.vmid, 'vzshutdown', () =>
          pve.shutdownContainer(input.node, input.vmid, { timeout: input.timeoutSeconds }),
        );
      });
    },

    async requestStop(input: { node: string; vmid: number }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        if ((await status(input.node, input.vmid)) === 'stopped') return done(input.node);
        return startOrAdopt(input.node, input.vmid, 'vzstop', () =>
          pve.stopContainer(input.node, input.vmid),
        );
      });
    },

    async requestStart(input: { node: string; vmid: number }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        if ((await status(input.node, input.vmid)) === 'running') return done(input.node);
        return startOrAdopt(input.node, input.vmid, 'vzstart', () =>
          pve.startContainer(input.node, input.vmid),
        );
      });
    },

    /**
     * Offline migration (or PVE's restart mode) from `from` to `to`. Already on `to`: done. On neither:
     * the CT moved under us, which the saga must not paper over.
     */
    async requestMigration(input: {
      vmid: number;
      from: string;
      to: string;
      restart?: boolean;
    }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        const node = await locate(input.vmid);
        if (node === input.to) {
          const active = await findActiveTask(pve, input.from, input.vmid, 'vzmigrate');
          return active ? { node: input.from, upid: active.upid, note: 'adopted' } : done(input.to);
        }
        if (node !== input.from) {
          throw refuse(
            ActivityFailureType.containerMoved,
            `CT ${input.vmid} is ${node === null ? 'gone' : `on ${node}`}, expected on ${input.from} or ${input.to}`,
          );
        }
        return startOrAdopt(input.from, input.vmid, 'vzmigrate', () =>
          pve.migrateContainer(input.from, input.vmid, { target: input.to, restart: input.restart }),
        );
      });
    },

    /** Creates the CT unless this owner already did; a vmid taken by someone else is VmidTaken. */
    async requestCreate(input: CreateRequest): Promise<TaskRequest> {
      const { node, spec, owner } = input;
      await assertManaged(spec.vmid);
      return asActivity(async () => {
        const mine = async (): Promise<TaskRequest | null> => {
          const at = await locate(spec.vmid);
          if (at === null) return null;
          const active = await findActiveTask(pve, at, spec.vmid, 'vzcreate');
          // During vzcreate the config may not be readable yet; an active create of ours is adopted.
          const config = active ? null : await pve.containerConfig(at, spec.vmid);
          if (active || isOwnedBy(config?.description ?? '', owner)) {
            return active ? { node: at, upid: active.upid, note: 'adopted' } : done(at);
          }
          throw refuse(ActivityFailureType.vmidTaken, `vmid ${spec.vmid} is already taken on ${at}`);
        };
        const existing = await mine();
        if (existing) return existing;
        const description = [spec.description, ownerMarker(owner)].filter(Boolean).join('\n');
        // The worker's pool and tag make the new container managed by the same scope that admits it.
        const managed = {
          ...(scope.pool !== undefined ? { pool: scope.pool } : {}),
          ...(scope.tag !== undefined ? { tags: [...new Set([...(spec.tags ?? []), scope.tag])] } : {}),
        };
        try {
          return {
            node,
            upid: await pve.createContainer(node, { ...spec, ...managed, description }),
            note: 'started',
          };
        } catch (err) {
          if (isPveError(err) && (err.state === 'exists' || err.kind === 'locked')) {
            const again = await mine();
            if (again) return again;
          }
          throw err;
        }
      });
    },

    async requestDestroy(input: { vmid: number }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        const node = await locate(input.vmid);
        if (node === null) return done('');
        return startOrAdopt(node, input.vmid, 'vzdestroy', () =>
          pve.destroyContainer(node, input.vmid, { purge: true }),
        );
      });
    },

    async requestSnapshot(input: {
      node: string;
      vmid: number;
      name: string;
      description?: string;
    }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        const existing = await pve.snapshots(input.node, input.vmid);
        if (existing.some((s) => s.name === input.name)) return done(input.node);
        return startOrAdopt(input.node, input.vmid, 'vzsnapshot', () =>
          pve.createSnapshot(input.node, input.vmid, input.name, input.description),
        );
      });
    },

    async requestSnapshotDelete(input: { node: string; vmid: number; name: string }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        const existing = await pve.snapshots(input.node, input.vmid);
        if (!existing.some((s) => s.name === input.name)) return done(input.node);
        return startOrAdopt(input.node, input.vmid, 'vzdelsnapshot', () =>
          pve.deleteSnapshot(input.node, input.vmid, input.name),
        );
      });
    },

    async listSnapshots(input: { node: string; vmid: number }): Promise<string[]> {
      return asActivity(async () =>
        (await pve.snapshots(input.node, input.vmid)).map((s) => s.name).filter((n) => n !== 'current'),
      );
    },

    async requestRollback(input: { node: string; vmid: number; name: string }): Promise<TaskRequest> {
      await assertManaged(input.vmid);
      return asActivity(() =>
        startOrAdopt(input.node, input.vmid, 'vzrollback', () =>
          pve.rollbackSnapshot(input.node, input.vmid, input.name),
        ),
      );
    },

    /**
     * Applies config changes guarded by the digest the saga read. Already applied: nothing to do,
     * whatever the digest (this is the retry after a lost answer).
     */
    async applyConfig(input: {
      node: string;
      vmid: number;
      changes: Pick<ConfigChanges, 'cores' | 'memory' | 'swap'>;
      digest: string;
    }): Promise<'applied' | 'unchanged'> {
      await assertManaged(input.vmid);
      return asActivity(async () => {
        const config = await pve.containerConfig(input.node, input.vmid);
        const { cores, memory, swap } = input.changes;
        const holds =
          (cores === undefined || config.cores === cores) &&
          (memory === undefined || config.memory === memory) &&
          (swap === undefined || config.swap === swap);
        if (holds) return 'unchanged';
        await pve.updateConfig(input.node, input.vmid, input.changes, input.digest);
        return 'applied';
      });
    },

    /** Waits for a task to end, heartbeating its status and last log line; stops on cancellation. */
    async awaitTask(input: { node: string; upid: string }): Promise<{ exitstatus: string }> {
      const ctx = Context.current();
      return asActivity(async () => {
        const finished = await waitForTask(pve, input.node, input.upid, {
          ...(deps.taskPollMs !== undefined ? { pollMs: deps.taskPollMs } : {}),
          ...(deps.taskPollMaxMs !== undefined ? { maxPollMs: deps.taskPollMaxMs } : {}),
          signal: ctx.cancellationSignal,
          onProgress: (s, lastLogLine) => ctx.heartbeat({ upid: input.upid, status: s.status, lastLogLine }),
        });
        return { exitstatus: finished.exitstatus };
      });
    },
  };
}

export type ProxmoxActivities = ReturnType<typeof createProxmoxActivities>;
