// Container operations as PVE runs them: the synchronous checks of each API call (500/400 at once)
// and the task scripts that follow (locks, durations, in-task errors, log lines).
import { fail, paramError } from './errors.js';
import { GiB, MiB, type Cluster, type CtConfig, type SimContainer } from './model/cluster.js';
import { normalizeCtOption } from './property-string.js';
import { TaskError, type SimTask, type TaskRun } from './tasks.js';
import type { World } from './world.js';

export type Params = Record<string, string | number | boolean>;

/** Default simulated durations (seconds); shutdown comes from the workload's shutdownSeconds. */
export const DURATION = {
  create: 5,
  start: 2,
  stop: 1,
  shutdown: 3,
  destroy: 2,
  snapshot: 2,
  delsnapshot: 2,
  rollback: 3,
  migrateSetup: 3,
};
/** Migration copy speed without bwlimit: 100 MiB/s. */
const MIGRATE_BYTES_PER_S = 100 * MiB;

/** Keys of POST /nodes/{node}/lxc that are not written to the container's config. */
const CREATE_ONLY = new Set([
  'node',
  'vmid',
  'ostemplate',
  'password',
  'ssh-public-keys',
  'start',
  'pool',
  'storage',
  'restore',
  'force',
  'unique',
  'ignore-unpack-errors',
  'bwlimit',
  'ha-managed',
]);

function checkLock(ct: SimContainer): void {
  if (ct.config.lock !== undefined) throw new TaskError(`CT is locked (${ct.config.lock})`);
}

function syncCheckLock(ct: SimContainer): void {
  if (ct.config.lock !== undefined) fail(`CT is locked (${ct.config.lock})`);
}

function configValue(v: string | number | boolean): string | number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

function hms(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

export class LxcOps {
  constructor(private readonly w: World) {}

  private get c() {
    return this.w.cluster;
  }

  private startTask(
    node: string,
    type: string,
    vmid: number,
    user: string,
    script: (r: TaskRun) => Generator<number, void, void>,
  ): SimTask {
    return this.w.tasks.start(node, type, String(vmid), user, script);
  }

  // ---- create / destroy ------------------------------------------------------------------------

  create(node: string, p: Params, user: string): string {
    const vmid = Number(p.vmid);
    const existing = this.c.containers.get(vmid);
    if (existing)
      fail(`${existing.type === 'qemu' ? 'VM' : 'CT'} ${vmid} already exists on node '${existing.node}'`);
    const pool = p.pool === undefined ? undefined : String(p.pool);
    if (pool !== undefined && !this.c.pools.has(pool)) fail(`pool '${pool}' does not exist`);
    const defaultStorage = String(p.storage ?? 'local');
    const rootfsParam = String(p.rootfs ?? `${defaultStorage}:4`);
    const m = /^([a-zA-Z][\w.-]*):(\d+(?:\.\d+)?)(?:,.*)?$/.exec(rootfsParam);
    if (!m) paramError({ rootfs: `invalid format - unable to parse volume '${rootfsParam}'` });
    const storageId = m[1]!;
    const sizeGiB = Number(m[2]);
    const storage = this.c.storage(storageId, node);
    if (!storage) fail(`storage '${storageId}' does not exist`);
    if (!storage.content.includes('rootdir'))
      fail(`storage '${storageId}' does not support container directories`);
    const ostemplate = String(p.ostemplate);
    const config: CtConfig = {};
    const mac = (nic: number): string => this.c.mac(vmid, nic);
    for (const [k, v] of Object.entries(p))
      if (!CREATE_ONLY.has(k)) config[k] = normalizeCtOption(k, configValue(v), mac);
    config.arch ??= 'amd64';
    config.hostname ??= `CT${vmid}`;
    config.memory ??= 512;
    config.swap ??= 512;
    config.ostype ??=
      /(alpine|ubuntu|centos|fedora|archlinux|devuan|opensuse|gentoo)/.exec(ostemplate)?.[1] ?? 'debian';
    config.unprivileged ??= 1;
    config.rootfs = `${storageId}:vm-${vmid}-disk-0,size=${sizeGiB}G`;
    if (typeof config.tags === 'string') config.tags = normalizeTags(config.tags);
    config.lock = 'create';
    const template = this.c.templates.find((t) => t.volid === ostemplate);
    const ct = this.c.add({
      vmid,
      node,
      config,
      workload: { profile: 'idle' },
      diskUsed: Math.min(sizeGiB * GiB, Math.round((template?.size ?? 128 * MiB) * 3.5)),
      ha: null,
    });
    const start = p.start === true;
    const ha = p['ha-managed'] === true;
    const c = this.c;
    const startAfter = (): string => this.start(node, vmid, {}, user);
    const task = this.startTask(node, 'vzcreate', vmid, user, function* (run) {
      const abort: (msg: string) => never = (msg) => {
        c.remove(vmid);
        throw new TaskError(msg);
      };
      if (!template || !c.storage(template.storage, node)) abort(`volume '${ostemplate}' does not exist`);
      run.log(`  Logical volume "vm-${vmid}-disk-0" created.`);
      run.log(`Creating filesystem with ${sizeGiB * 262144} 4k blocks and ${sizeGiB * 65536} inodes`);
      run.log(`extracting archive '/var/lib/vz/template/cache/${ostemplate.split('/').pop()}'`);
      yield DURATION.create;
      const injected = run.injectedFailure();
      if (injected) abort(injected);
      run.log(`Total bytes read: ${ct.diskUsed} (${(ct.diskUsed / MiB).toFixed(0)}MiB)`);
      run.log(`Detected container architecture: ${config.arch}`);
      run.log("Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...");
      delete ct.config.lock;
      if (pool) ct.pool = pool;
      if (ha) ct.ha = { state: 'started' };
      if (start || ha) startAfter();
    });
    return task.upid;
  }

  destroy(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    syncCheckLock(ct);
    if (ct.status === 'running' && p.force !== true)
      fail(`unable to destroy CT ${vmid} - container is running`);
    if (ct.ha && p.purge !== true)
      fail(`unable to remove CT ${vmid} - used in HA resources and purge parameter not set.`);
    if (ct.config.protection === 1) fail(`can't remove CT ${vmid} - protection mode enabled`);
    const c = this.c;
    const task = this.startTask(node, 'vzdestroy', vmid, user, function* (run) {
      if (ct.status === 'running') {
        run.log(`stopping CT ${vmid}`);
        c.stopContainer(ct);
      }
      ct.config.lock = 'destroyed';
      yield DURATION.destroy;
      const injected = run.injectedFailure();
      if (injected) {
        delete ct.config.lock;
        throw new TaskError(injected);
      }
      run.log(`  Logical volume "vm-${vmid}-disk-0" successfully removed.`);
      if (p.purge === true) run.log(`purging CT ${vmid} from related configurations..`);
      c.remove(vmid);
    });
    return task.upid;
  }

  // ---- config ----------------------------------------------------------------------------------

  updateConfig(node: string, vmid: number, p: Params): void {
    const ct = this.c.ct(node, vmid);
    if (p.lock === undefined) syncCheckLock(ct);
    if (p.digest !== undefined && p.digest !== this.c.digest(ct))
      fail('detected modified configuration - file changed by other user? Try again.');
    const skip = new Set(['node', 'vmid', 'digest', 'delete', 'revert']);
    const del =
      p.delete === undefined
        ? []
        : String(p.delete)
            .split(/[,;\s]+/)
            .filter(Boolean);
    for (const key of del) {
      if (p[key] !== undefined) paramError({ [key]: "can't set and delete the same option" });
      if (['rootfs', 'hostname', 'arch', 'ostype'].includes(key))
        paramError({ delete: `unable to delete required option '${key}'` });
    }
    // Every value is checked and normalised before anything changes: a bad one changes nothing.
    const mac = (nic: number): string => this.c.mac(vmid, nic);
    const set = Object.entries(p)
      .filter(([k]) => !skip.has(k))
      .map(
        ([k, v]) =>
          [k, k === 'tags' ? normalizeTags(String(v)) : normalizeCtOption(k, configValue(v), mac)] as const,
      );
    for (const key of del) delete ct.config[key];
    for (const [k, v] of set) ct.config[k] = v;
    if (ct.status === 'running') {
      // Cores and memory change live: re-sample now so node figures follow at once.
      this.c.sample(ct, this.w.time);
      this.c.refreshNode(this.c.nodes.get(ct.node)!);
    }
  }

  // ---- power -----------------------------------------------------------------------------------

  start(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    if (ct.status === 'running') fail(`CT ${vmid} already running`);
    if (ct.config.template === 1) fail(`you can't start a CT if it's a template`);
    const skiplock = p.skiplock === true;
    const ha = ct.ha;
    const type = ha ? 'hastart' : 'vzstart';
    const c = this.c;
    return this.startTask(node, type, vmid, user, function* (run) {
      if (ha) {
        run.log(`Requesting HA start for CT ${vmid}`);
        ha.state = 'started';
      }
      if (!skiplock) checkLock(ct);
      yield DURATION.start;
      if (ct.status === 'running') throw new TaskError(`CT ${vmid} already running`);
      const injected = run.injectedFailure();
      if (injected) {
        run.log(injected);
        throw new TaskError(`startup for container '${vmid}' failed`);
      }
      c.startContainer(ct, run.now(), run.now());
    }).upid;
  }

  stop(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    if (ct.status !== 'running') fail(`CT ${vmid} not running`);
    const skiplock = p.skiplock === true;
    const ha = ct.ha;
    const c = this.c;
    return this.startTask(node, ha ? 'hastop' : 'vzstop', vmid, user, function* (run) {
      if (ha) {
        run.log(`Requesting HA stop for CT ${vmid}`);
        ha.state = 'stopped';
      }
      if (!skiplock) checkLock(ct);
      yield DURATION.stop;
      const injected = run.injectedFailure();
      if (injected) throw new TaskError(injected);
      if (ct.status === 'running') c.stopContainer(ct);
    }).upid;
  }

  shutdown(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    if (ct.status !== 'running') fail(`CT ${vmid} not running`);
    const timeout = p.timeout === undefined ? 60 : Number(p.timeout);
    const force = p.forceStop === true;
    const ha = ct.ha;
    const c = this.c;
    return this.startTask(node, ha ? 'hastop' : 'vzshutdown', vmid, user, function* (run) {
      if (ha) {
        run.log(`Requesting HA stop for CT ${vmid}`);
        ha.state = 'stopped';
      }
      checkLock(ct);
      yield* shutdownSteps(c, ct, run, timeout, force);
    }).upid;
  }

  reboot(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    if (ct.status !== 'running') fail(`CT ${vmid} not running`);
    const timeout = p.timeout === undefined ? 60 : Number(p.timeout);
    const c = this.c;
    return this.startTask(node, 'vzreboot', vmid, user, function* (run) {
      checkLock(ct);
      yield* shutdownSteps(c, ct, run, timeout, true);
      yield DURATION.start;
      c.startContainer(ct, run.now(), run.now());
    }).upid;
  }

  // ---- migration -------------------------------------------------------------------------------

  migrate(node: string, vmid: number, p: Params, user: string): string {
    const target = String(p.target);
    if (target === node) paramError({ target: 'target is local node.' });
    const targetNode = this.c.nodes.get(target);
    if (!targetNode) fail(`no such cluster node '${target}'`);
    const ct = this.c.ct(node, vmid);
    const online = p.online === true;
    const restart = p.restart === true;
    if (ct.status === 'running' && !online && !restart)
      fail("can't migrate running container without --online or --restart");
    if (ct.ha) {
      // HA-managed: the API only queues a request; the CRM runs the migration as root@pam.
      const ha = this.startTask(node, 'hamigrate', vmid, user, function* (run) {
        run.log(`Requesting HA migration for CT ${vmid} to node ${target}`);
        yield 0;
      });
      this.runMigration(node, ct, target, { ...p, restart: true, online: false }, 'root@pam');
      return ha.upid;
    }
    return this.runMigration(node, ct, target, p, user).upid;
  }

  private runMigration(node: string, ct: SimContainer, target: string, p: Params, user: string): SimTask {
    const vmid = ct.vmid;
    const restart = p.restart === true;
    const online = p.online === true;
    const timeout = p.timeout === undefined ? 180 : Number(p.timeout);
    const bwlimitKiB = p.bwlimit === undefined ? 0 : Number(p.bwlimit);
    const targetStorage = p['target-storage'] === undefined ? undefined : String(p['target-storage']);
    const c = this.c;
    return this.startTask(node, 'vzmigrate', vmid, user, function* (run) {
      const began = run.now();
      const stamp = (): string => new Date(run.now()).toISOString().replace('T', ' ').slice(0, 19);
      const log = (line: string): void => run.log(`${stamp()} ${line}`);
      let wasRunning = false;
      let lockedByUs = false;
      const abort: (reason: string) => never = (reason) => {
        log(`ERROR: ${reason}`);
        if (lockedByUs) delete ct.config.lock;
        log(`aborting phase 1 - cleanup resources`);
        if (wasRunning && ct.status === 'stopped' && ct.node === node) {
          log('start container on source node');
          c.startContainer(ct, run.now(), run.now());
        }
        log(`ERROR: migration aborted (duration ${hms(run.now() - began)}): ${reason}`);
        throw new TaskError('migration aborted');
      };
      const tnode = c.nodes.get(target)!;
      log(`starting migration of CT ${vmid} to node '${target}' (${tnode.ip})`);
      if (c.containers.get(vmid) !== ct || ct.node !== node)
        abort(`Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
      if (ct.config.lock !== undefined) abort(`CT is locked (${ct.config.lock})`);
      if (ct.status === 'running') {
        if (online) abort('lxc live migration is currently not implemented');
        if (!restart) abort("can't migrate running container without --online or --restart");
      }
      if (!tnode.online) abort(`Can't connect to destination address using public key`);
      ct.config.lock = 'migrate';
      lockedByUs = true;
      if (ct.status === 'running') {
        wasRunning = true;
        log(`shutdown CT ${vmid}`);
        const needs = ct.workload.shutdownSeconds ?? DURATION.shutdown;
        yield Math.min(needs, timeout);
        c.stopContainer(ct);
      }
      const volume = String(ct.config.rootfs ?? '').split(',')[0] ?? '';
      const srcStorage = volume.split(':')[0] ?? '';
      const dstStorage =
        targetStorage && targetStorage !== '1' ? (targetStorage.split(':').pop() ?? srcStorage) : srcStorage;
      const dst = c.storage(dstStorage, target);
      if (!dst) abort(`storage '${dstStorage}' is not available on node '${target}'`);
      const shared = dst.shared && dstStorage === srcStorage;
      yield DURATION.migrateSetup;
      if (!shared) {
        log(`found local volume '${volume}' (in current VM config)`);
        const bytes = ct.diskUsed;
        const rate = bwlimitKiB > 0 ? Math.min(MIGRATE_BYTES_PER_S, bwlimitKiB * 1024) : MIGRATE_BYTES_PER_S;
        if (bwlimitKiB > 0)
          log(
            `using a bandwidth limit of ${bwlimitKiB * 1024} bytes per second for transferring '${volume}'`,
          );
        const total = Math.max(1, bytes / rate);
        // Log progress in a few steps so a watcher sees the copy move.
        const steps = Math.max(1, Math.min(5, Math.ceil(total / 5)));
        for (let i = 1; i <= steps; i++) {
          yield total / steps;
          if (!c.nodes.get(target)?.online) abort(`volume copy failed: connection to '${target}' lost`);
          const injected = i === steps ? run.injectedFailure() : null;
          if (injected) abort(injected);
          log(
            `${Math.round((bytes * i) / steps)} bytes (${((bytes * i) / steps / GiB).toFixed(1)} GiB) copied`,
          );
        }
        log(`volume '${volume}' is '${volume.replace(srcStorage + ':', dstStorage + ':')}' on the target`);
      } else {
        const injected = run.injectedFailure();
        if (injected) abort(injected);
      }
      if (dstStorage !== srcStorage)
        ct.config.rootfs = String(ct.config.rootfs).replace(`${srcStorage}:`, `${dstStorage}:`);
      ct.node = target;
      delete ct.config.lock;
      c.refreshNode(c.nodes.get(node)!);
      if (wasRunning) {
        log('start container on target node');
        yield DURATION.start;
        c.startContainer(ct, run.now(), run.now());
      }
      log('start final cleanup');
      log(`migration finished successfully (duration ${hms(run.now() - began)})`);
    });
  }

  // ---- snapshots -------------------------------------------------------------------------------

  snapshot(node: string, vmid: number, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    const name = String(p.snapname);
    if (name === 'current' || name === 'vzdump')
      fail(`unable to use snapshot name '${name}' (reserved name)`);
    const description = p.description === undefined ? '' : String(p.description);
    return this.startTask(node, 'vzsnapshot', vmid, user, function* (run) {
      checkLock(ct);
      if (ct.snapshots.some((s) => s.name === name))
        throw new TaskError(`snapshot name '${name}' already used`);
      ct.config.lock = 'snapshot';
      if (ct.status === 'running') run.log("create storage snapshot '" + name + "'");
      yield DURATION.snapshot;
      const injected = run.injectedFailure();
      delete ct.config.lock;
      if (injected) throw new TaskError(injected);
      const config = { ...ct.config };
      ct.snapshots.push({
        name,
        description,
        snaptime: Math.floor(run.now() / 1000),
        parent: ct.parent,
        config,
      });
      ct.parent = name;
    }).upid;
  }

  deleteSnapshot(node: string, vmid: number, name: string, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    return this.startTask(node, 'vzdelsnapshot', vmid, user, function* (run) {
      const snap = ct.snapshots.find((s) => s.name === name);
      if (!snap) throw new TaskError(`snapshot '${name}' does not exist`);
      if (p.force !== true) checkLock(ct);
      ct.config.lock = 'snapshot-delete';
      yield DURATION.delsnapshot;
      const injected = run.injectedFailure();
      delete ct.config.lock;
      if (injected) throw new TaskError(injected);
      ct.snapshots = ct.snapshots.filter((s) => s !== snap);
      for (const s of ct.snapshots) if (s.parent === name) s.parent = snap.parent;
      if (ct.parent === name) ct.parent = snap.parent;
    }).upid;
  }

  rollback(node: string, vmid: number, name: string, p: Params, user: string): string {
    const ct = this.c.ct(node, vmid);
    const c = this.c;
    return this.startTask(node, 'vzrollback', vmid, user, function* (run) {
      const snap = ct.snapshots.find((s) => s.name === name);
      if (!snap) throw new TaskError(`snapshot '${name}' does not exist`);
      checkLock(ct);
      ct.config.lock = 'rollback';
      if (ct.status === 'running') {
        run.log(`stopping CT ${vmid} for rollback`);
        c.stopContainer(ct);
      }
      yield DURATION.rollback;
      const injected = run.injectedFailure();
      if (injected) {
        delete ct.config.lock;
        throw new TaskError(injected);
      }
      ct.config = { ...snap.config };
      delete ct.config.lock;
      ct.parent = name;
      if (p.start === true) {
        yield DURATION.start;
        c.startContainer(ct, run.now(), run.now());
      }
    }).upid;
  }
}

/** A clean shutdown inside the container; past the timeout it fails, or with forceStop it kills. */
function* shutdownSteps(
  c: Cluster,
  ct: SimContainer,
  run: TaskRun,
  timeout: number,
  force: boolean,
): Generator<number, void, void> {
  const needs = ct.workload.shutdownSeconds ?? DURATION.shutdown;
  const injected = run.injectedFailure();
  if (needs <= timeout && !injected) {
    yield needs;
  } else {
    yield timeout;
    if (ct.status === 'running' && !force) throw new TaskError(injected ?? 'container did not stop');
    if (ct.status === 'running') run.log('container did not stop in time, killing it (forceStop)');
  }
  if (ct.status === 'running') c.stopContainer(ct);
}

/** PVE stores tags separated by ';' (input may use ',', ';' or spaces). */
export function normalizeTags(tags: string): string {
  return tags
    .split(/[,;\s]+/)
    .filter(Boolean)
    .join(';');
}
