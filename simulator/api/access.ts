// The /access tree: password login (ticket and CSRF token), the caller's effective permissions,
// the realms for the login box, and the user list.
import { PveError } from '../errors.js';
import { ROLE_PRIVS } from '../http/auth.js';
import type { ApiContext } from './context.js';
import type { Json } from './views.js';

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

/** The top-level paths PVE's get_effective_permissions always reports, beside every pool's. */
const TOP_PATHS = [
  '/',
  '/access',
  '/access/groups',
  '/mapping',
  '/nodes',
  '/pool',
  '/sdn',
  '/storage',
  '/vms',
];

/**
 * GET /access/permissions: path → {privilege: propagate}. Roles are granted at '/' with propagation,
 * so every path carries the same set; a token's is its role cut down to its user's (privsep).
 * Anyone may read their own (and their own tokens'); another user's needs Sys.Audit on /access.
 */
export function permissions(ctx: ApiContext): unknown {
  const caller = ctx.principal!;
  const target = ctx.params.userid === undefined ? caller.authid : String(ctx.params.userid);
  const own = target === caller.authid || target.split('!')[0] === caller.authid;
  if (!own && !ctx.auth.has(caller, ['Sys.Audit'], false))
    throw new PveError(403, 'Permission check failed (/access, Sys.Audit)');
  const privs = ctx.auth.privilegesOf(target);
  const grant: Record<string, number> = {};
  for (const p of [...(privs ?? [])].sort()) grant[p] = 1;
  const paths =
    ctx.params.path === undefined
      ? [...TOP_PATHS, ...[...ctx.world.cluster.pools.keys()].map((id) => `/pool/${id}`)]
      : [String(ctx.params.path)];
  const out: Record<string, Record<string, number>> = {};
  // Paths where the user holds nothing are left out, as PVE filters them.
  if (Object.keys(grant).length > 0) for (const path of paths) out[path] = { ...grant };
  return out;
}

export function domains(): unknown {
  return [
    { realm: 'pam', type: 'pam', comment: 'Linux PAM standard authentication' },
    { realm: 'pve', type: 'pve', comment: 'Proxmox VE authentication server' },
  ];
}

/** GET /access/users: all users with Sys.Audit (or User.Modify), otherwise the caller alone. */
export function users(ctx: ApiContext): unknown {
  const caller = ctx.principal!;
  const all = ctx.auth.has(caller, ['Sys.Audit', 'User.Modify'], true);
  const full = ctx.params.full === true;
  return (
    ctx.auth
      .userList()
      .filter((u) => all || u.userid === caller.userid)
      // Every scenario user is enabled: `enabled=0` finds nobody.
      .filter(() => ctx.params.enabled !== false)
      .map((u) => {
        const e: Json = { userid: u.userid, enable: 1, expire: 0, 'realm-type': u.userid.split('@')[1] };
        if (full)
          e.tokens = u.tokens.map((t) => ({
            tokenid: t.id.split('!')[1],
            expire: 0,
            privsep: t.privsep === false ? 0 : 1,
          }));
        return e;
      })
  );
}

/** GET /access/acl: only for callers who may change permissions; every grant is at '/'. */
export function acl(ctx: ApiContext): unknown {
  if (!ctx.auth.has(ctx.principal!, ['Permissions.Modify'], false)) return [];
  return ctx.auth
    .acl()
    .map((e) => ({ path: '/', type: e.type, ugid: e.ugid, roleid: e.roleid, propagate: 1 }));
}

/** GET /access/roles: the built-in roles pve-sim knows (real PVE lists more of them). */
export function roles(): unknown {
  return [
    ...Object.entries(ROLE_PRIVS).map(([roleid, privs]) => ({
      roleid,
      privs: [...privs].sort().join(','),
      special: 1,
    })),
    { roleid: 'NoAccess', privs: '', special: 1 },
  ];
}
