// The table of implemented PVE methods. Each must have an entry in schema/pve-api.json (made by
// scripts/extract-pve-schema.ts) so its parameters and permissions are checked by the official rules.
import { Router } from '../http/router.js';
import { acl, createTicket, domains, permissions, roles, users } from './access.js';
import {
  clusterOptions,
  clusterStatus,
  clusterTasks,
  haResources,
  nextid,
  noJobs,
  resources,
  storageConfig,
  version,
} from './cluster.js';
import type { Handler } from './context.js';
import { haResourceRead, haRules, haStatusCurrent } from './ha.js';
import * as lxc from './lxc.js';
import {
  netstat,
  nodeDns,
  nodeIndex,
  nodeRrd,
  nodeStatus,
  nodeTime,
  nodeVersion,
  storageContent,
  storageIndex,
  storageStatus,
  subscription,
} from './nodes.js';
import * as qemu from './qemu.js';
import { createPool, deletePool, listPools, readPool, updatePool } from './pools.js';
import { nodeTasks, taskLog, taskStatus } from './tasks.js';

export function buildRoutes(): Router<Handler> {
  const r = new Router<Handler>();
  const CT = '/nodes/{node}/lxc/{vmid}';
  const VM = '/nodes/{node}/qemu/{vmid}';
  r.add('POST', '/access/ticket', createTicket);
  r.add('GET', '/access/permissions', permissions);
  r.add('GET', '/access/domains', domains);
  r.add('GET', '/access/users', users);
  r.add('GET', '/access/acl', acl);
  r.add('GET', '/access/roles', roles);
  r.add('GET', '/version', version);
  r.add('GET', '/storage', storageConfig);
  r.add('GET', '/cluster/status', clusterStatus);
  r.add('GET', '/cluster/resources', resources);
  r.add('GET', '/cluster/nextid', nextid);
  r.add('GET', '/cluster/tasks', clusterTasks);
  r.add('GET', '/cluster/ha/resources', haResources);
  r.add('GET', '/cluster/ha/resources/{sid}', haResourceRead);
  r.add('GET', '/cluster/ha/rules', haRules);
  r.add('GET', '/cluster/ha/status/current', haStatusCurrent);
  r.add('GET', '/cluster/options', clusterOptions);
  r.add('GET', '/cluster/backup', noJobs);
  r.add('GET', '/cluster/replication', noJobs);
  r.add('GET', '/nodes', nodeIndex);
  r.add('GET', '/nodes/{node}/status', nodeStatus);
  r.add('GET', '/nodes/{node}/version', nodeVersion);
  r.add('GET', '/nodes/{node}/time', nodeTime);
  r.add('GET', '/nodes/{node}/dns', nodeDns);
  r.add('GET', '/nodes/{node}/netstat', netstat);
  r.add('GET', '/nodes/{node}/subscription', subscription);
  r.add('GET', '/nodes/{node}/rrddata', nodeRrd);
  r.add('GET', '/nodes/{node}/tasks', nodeTasks);
  r.add('GET', '/nodes/{node}/tasks/{upid}/status', taskStatus);
  r.add('GET', '/nodes/{node}/tasks/{upid}/log', taskLog);
  r.add('GET', '/nodes/{node}/storage', storageIndex);
  r.add('GET', '/nodes/{node}/storage/{storage}/status', storageStatus);
  r.add('GET', '/nodes/{node}/storage/{storage}/content', storageContent);
  r.add('GET', '/nodes/{node}/lxc', lxc.list);
  r.add('POST', '/nodes/{node}/lxc', lxc.create);
  r.add('DELETE', CT, lxc.destroy);
  r.add('GET', `${CT}/config`, lxc.getConfig);
  r.add('PUT', `${CT}/config`, lxc.putConfig);
  r.add('GET', `${CT}/pending`, lxc.pending);
  r.add('GET', `${CT}/interfaces`, lxc.interfaces);
  r.add('GET', `${CT}/status/current`, lxc.statusCurrent);
  r.add('POST', `${CT}/status/start`, lxc.start);
  r.add('POST', `${CT}/status/stop`, lxc.stop);
  r.add('POST', `${CT}/status/shutdown`, lxc.shutdown);
  r.add('POST', `${CT}/status/reboot`, lxc.reboot);
  r.add('POST', `${CT}/migrate`, lxc.migrate);
  r.add('GET', `${CT}/rrddata`, lxc.rrddata);
  r.add('GET', `${CT}/snapshot`, lxc.snapshots);
  r.add('POST', `${CT}/snapshot`, lxc.snapshot);
  r.add('DELETE', `${CT}/snapshot/{snapname}`, lxc.deleteSnapshot);
  r.add('POST', `${CT}/snapshot/{snapname}/rollback`, lxc.rollback);
  r.add('GET', '/nodes/{node}/qemu', qemu.list);
  r.add('GET', `${VM}/status/current`, qemu.statusCurrent);
  r.add('GET', `${VM}/config`, qemu.getConfig);
  r.add('GET', `${VM}/pending`, qemu.pending);
  r.add('GET', `${VM}/rrddata`, lxc.rrddata);
  r.add('GET', `${VM}/snapshot`, qemu.snapshots);
  r.add('GET', '/pools', listPools);
  r.add('POST', '/pools', createPool);
  r.add('PUT', '/pools', updatePool);
  r.add('DELETE', '/pools', deletePool);
  r.add('GET', '/pools/{poolid}', readPool);
  r.add('PUT', '/pools/{poolid}', updatePool);
  r.add('DELETE', '/pools/{poolid}', deletePool);
  return r;
}
