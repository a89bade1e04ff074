// The table of implemented PVE methods. Each must have an entry in schema/pve-api.json (made by
// scripts/extract-pve-schema.ts) so its parameters and permissions are checked by the official rules.
import { Router } from '../http/router.js';
import { createTicket } from './access.js';
import { clusterStatus, clusterTasks, haResources, nextid, resources, version } from './cluster.js';
import type { Handler } from './context.js';
import * as lxc from './lxc.js';
import { nodeIndex, nodeRrd, nodeStatus, storageContent, storageIndex } from './nodes.js';
import { createPool, deletePool, listPools, readPool, updatePool } from './pools.js';
import { nodeTasks, taskLog, taskStatus } from './tasks.js';

export function buildRoutes(): Router<Handler> {
  const r = new Router<Handler>();
  const CT = '/nodes/{node}/lxc/{vmid}';
  r.add('POST', '/access/ticket', createTicket);
  r.add('GET', '/version', version);
  r.add('GET', '/cluster/status', clusterStatus);
  r.add('GET', '/cluster/resources', resources);
  r.add('GET', '/cluster/nextid', nextid);
  r.add('GET', '/cluster/tasks', clusterTasks);
  r.add('GET', '/cluster/ha/resources', haResources);
  r.add('GET', '/nodes', nodeIndex);
  r.add('GET', '/nodes/{node}/status', nodeStatus);
  r.add('GET', '/nodes/{node}/rrddata', nodeRrd);
  r.add('GET', '/nodes/{node}/tasks', nodeTasks);
  r.add('GET', '/nodes/{node}/tasks/{upid}/status', taskStatus);
  r.add('GET', '/nodes/{node}/tasks/{upid}/log', taskLog);
  r.add('GET', '/nodes/{node}/storage', storageIndex);
  r.add('GET', '/nodes/{node}/storage/{storage}/content', storageContent);
  r.add('GET', '/nodes/{node}/lxc', lxc.list);
  r.add('POST', '/nodes/{node}/lxc', lxc.create);
  r.add('DELETE', CT, lxc.destroy);
  r.add('GET', `${CT}/config`, lxc.getConfig);
  r.add('PUT', `${CT}/config`, lxc.putConfig);
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
  r.add('GET', '/pools', listPools);
  r.add('POST', '/pools', createPool);
  r.add('PUT', '/pools', updatePool);
  r.add('DELETE', '/pools', deletePool);
  r.add('GET', '/pools/{poolid}', readPool);
  r.add('PUT', '/pools/{poolid}', updatePool);
  r.add('DELETE', '/pools/{poolid}', deletePool);
  return r;
}
