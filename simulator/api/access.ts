// POST /access/ticket: password login, answering with a ticket and the CSRF token for writes.
import { PveError } from '../errors.js';
import type { ApiContext } from './context.js';

export function createTicket(ctx: ApiContext): unknown {
  const p = ctx.params;
  const t = ctx.auth.login(
    String(p.username),
    String(p.password),
    p.realm === undefined ? undefined : String(p.realm),
  );
  if (!t) throw new PveError(401, 'authentication failure');
  return {
    username: t.userid,
    ticket: t.ticket,
    CSRFPreventionToken: t.csrf,
    clustername: ctx.world.cluster.name,
    cap: { vms: {}, storage: {}, access: {}, nodes: {}, dc: {}, sdn: {}, mapping: {} },
  };
}
