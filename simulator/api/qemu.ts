// QEMU VMs under /nodes/{node}/qemu, read side only: pve-sim carries unmanaged VMs beside the
// containers (listed, with status, config and history) but runs no VM tasks.
import { PveError } from '../errors.js';
import type { ApiContext } from './context.js';
import { pendingEntries } from './lxc.js';
import { vmStatus, type Json } from './views.js';

const node = (ctx: ApiContext): string => String(ctx.params.node);
const vmid = (ctx: ApiContext): number => Number(ctx.params.vmid);

export function list(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  c.node(node(ctx));
  return c
    .list()
    .filter((g) => g.type === 'qemu' && g.node === node(ctx))
    .map((g) => vmStatus(c, g, ctx.world.time));
}

export function statusCurrent(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const vm = c.vm(node(ctx), vmid(ctx));
  const e = vmStatus(c, vm, ctx.world.time);
  e.ha = vm.ha ? { managed: 1, state: vm.ha.state } : { managed: 0 };
  e.agent = 0;
  return e;
}

export function getConfig(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const vm = c.vm(node(ctx), vmid(ctx));
  if (ctx.params.snapshot !== undefined)
    throw new PveError(500, `snapshot '${String(ctx.params.snapshot)}' does not exist`);
  return { ...vm.config, digest: c.digest(vm) } satisfies Json;
}

export function pending(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const vm = c.vm(node(ctx), vmid(ctx));
  return pendingEntries(vm.config, c.digest(vm));
}

export function snapshots(ctx: ApiContext): unknown {
  const c = ctx.world.cluster;
  const vm = c.vm(node(ctx), vmid(ctx));
  return [
    {
      name: 'current',
      description: 'You are here!',
      digest: c.digest(vm),
      running: vm.status === 'running' ? 1 : 0,
    },
  ];
}
