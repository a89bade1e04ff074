// Authentication and privileges as pveproxy does them: tickets (cookie + CSRF header on writes, 2 h
// lifetime on the simulated clock), API tokens, roles granted at '/', and PVE's 401/403 texts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Role, TokenSpec, UserSpec } from '../scenarios/types.js';

export const TICKET_LIFETIME_S = 7200;

export interface Principal {
  /** USER@REALM */
  userid: string;
  /** How tasks record the caller: USER@REALM or USER@REALM!TOKEN. */
  authid: string;
  /** Effective privileges, granted at '/' with propagation (a token's already intersected). */
  privs: ReadonlySet<string>;
  viaTicket: boolean;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: string };

/** Every privilege PVE 9 knows (PVE::AccessControl), what Administrator and root@pam hold. */
export const ALL_PRIVS: readonly string[] = [
  'Datastore.Allocate',
  'Datastore.AllocateSpace',
  'Datastore.AllocateTemplate',
  'Datastore.Audit',
  'Group.Allocate',
  'Mapping.Audit',
  'Mapping.Modify',
  'Mapping.Use',
  'Permissions.Modify',
  'Pool.Allocate',
  'Pool.Audit',
  'Realm.Allocate',
  'Realm.AllocateUser',
  'SDN.Allocate',
  'SDN.Audit',
  'SDN.Use',
  'Sys.AccessNetwork',
  'Sys.Audit',
  'Sys.Console',
  'Sys.Incoming',
  'Sys.Modify',
  'Sys.PowerMgmt',
  'Sys.Syslog',
  'User.Modify',
  'VM.Allocate',
  'VM.Audit',
  'VM.Backup',
  'VM.Clone',
  'VM.Config.CDROM',
  'VM.Config.CPU',
  'VM.Config.Cloudinit',
  'VM.Config.Disk',
  'VM.Config.HWType',
  'VM.Config.Memory',
  'VM.Config.Network',
  'VM.Config.Options',
  'VM.Console',
  'VM.GuestAgent.Audit',
  'VM.GuestAgent.FileRead',
  'VM.GuestAgent.FileSystemMgmt',
  'VM.GuestAgent.FileWrite',
  'VM.GuestAgent.Unrestricted',
  'VM.Migrate',
  'VM.PowerMgmt',
  'VM.Replicate',
  'VM.Snapshot',
  'VM.Snapshot.Rollback',
];

export const ROLE_PRIVS: Record<Role, ReadonlySet<string>> = {
  Administrator: new Set(ALL_PRIVS),
  PVEAuditor: new Set([
    'Sys.Audit',
    'VM.Audit',
    'Datastore.Audit',
    'Pool.Audit',
    'SDN.Audit',
    'Mapping.Audit',
    'VM.GuestAgent.Audit',
  ]),
  PVEVMUser: new Set([
    'VM.Audit',
    'VM.PowerMgmt',
    'VM.Console',
    'VM.Backup',
    'VM.Snapshot',
    'VM.Config.CDROM',
    'VM.Config.Cloudinit',
    'Datastore.AllocateSpace',
    'Datastore.Audit',
    'Pool.Audit',
  ]),
};

export class Auth {
  /** Signing key for tickets and CSRF tokens; per process, like a node's authkey. */
  private readonly key = randomBytes(32);

  constructor(
    private readonly users: UserSpec[],
    private readonly tokens: TokenSpec[],
    private readonly nowSec: () => number,
  ) {}

  /**
   * POST /access/ticket: a new ticket, or null for wrong credentials. As PVE's create_ticket, a
   * given realm is always appended (`root@pam` + realm `pam` is the unknown `root@pam@pam`) and a
   * name without a realm is no user at all.
   */
  login(
    username: string,
    password: string,
    realm?: string,
  ): { userid: string; ticket: string; csrf: string } | null {
    const userid = realm === undefined || realm === '' ? username : `${username}@${realm}`;
    const user = this.users.find((u) => u.userid === userid);
    // A valid ticket also works as the password (PVE's ticket renewal).
    const renewed = this.verifyTicket(password);
    if (!user || (user.password !== password && renewed !== userid)) return null;
    const hex = this.nowSec().toString(16).toUpperCase().padStart(8, '0');
    const plain = `PVE:${userid}:${hex}`;
    return {
      userid,
      ticket: `${plain}::${this.sign(plain)}`,
      csrf: `${hex}:${this.sign(`${hex}:${userid}`)}`,
    };
  }

  authenticate(headers: IncomingHttpHeaders, method: string): AuthResult {
    const ticket =
      cookieValue(headers.cookie, 'PVEAuthCookie') ?? cookieValue(headers.authorization, 'PVEAuthCookie');
    if (ticket) {
      const userid = this.verifyTicket(ticket);
      if (!userid) return { ok: false, reason: 'permission denied - invalid PVE ticket' };
      const user = this.users.find((u) => u.userid === userid);
      if (!user) return { ok: false, reason: 'permission denied - invalid PVE ticket' };
      if (method !== 'GET' && !this.verifyCsrf(headers.csrfpreventiontoken, userid))
        return { ok: false, reason: 'Permission denied - invalid csrf token' };
      return {
        ok: true,
        principal: { userid, authid: userid, privs: ROLE_PRIVS[user.role], viaTicket: true },
      };
    }
    const auth = headers.authorization;
    if (auth?.startsWith('PVEAPIToken')) {
      const m = /^PVEAPIToken[= ]([^!\s]+)!([^=:\s]+)[=:](\S+)$/.exec(auth);
      const token = m ? this.tokens.find((t) => t.id === `${m[1]}!${m[2]}`) : undefined;
      if (!m || !token || !safeEqual(token.secret, m[3]!))
        return { ok: false, reason: 'Authentication failed!' };
      const privs = this.tokenPrivs(token);
      if (!privs) return { ok: false, reason: 'Authentication failed!' };
      return { ok: true, principal: { userid: m[1]!, authid: token.id, privs, viaTicket: false } };
    }
    return { ok: false, reason: 'No ticket' };
  }

  /** PVE's check: all privileges (or any, for "any" checks) on the path, roles propagate from '/'. */
  has(principal: Principal, privs: string[], any: boolean): boolean {
    const granted = principal.privs;
    return any ? privs.some((p) => granted.has(p)) : privs.every((p) => granted.has(p));
  }

  /**
   * The effective privileges of a user or token id (GET /access/permissions?userid=), or null when
   * there is no such user or token.
   */
  privilegesOf(authid: string): ReadonlySet<string> | null {
    if (authid.includes('!')) {
      const token = this.tokens.find((t) => t.id === authid);
      return token ? this.tokenPrivs(token) : null;
    }
    const user = this.users.find((u) => u.userid === authid);
    return user ? ROLE_PRIVS[user.role] : null;
  }

  /** The ACL as PVE would list it: each user's and token's role at '/', root@pam being built in. */
  acl(): Array<{ type: 'user' | 'token'; ugid: string; roleid: Role }> {
    return [
      ...this.users
        .filter((u) => u.userid !== 'root@pam')
        .map((u) => ({ type: 'user' as const, ugid: u.userid, roleid: u.role })),
      ...this.tokens.map((t) => ({ type: 'token' as const, ugid: t.id, roleid: t.role })),
    ];
  }

  /** Users and their tokens (no secrets), for GET /access/users. */
  userList(): Array<{ userid: string; tokens: Array<{ id: string; privsep?: boolean }> }> {
    return this.users.map((u) => ({
      userid: u.userid,
      tokens: this.tokens
        .filter((t) => t.id.startsWith(`${u.userid}!`))
        .map((t) => ({ id: t.id, privsep: t.privsep })),
    }));
  }

  /** With privsep a token holds its role's privileges that its user also holds; without, the user's. */
  private tokenPrivs(token: TokenSpec): ReadonlySet<string> | null {
    const known = this.tokenPrivCache.get(token.id);
    if (known !== undefined) return known;
    const privs = this.intersect(token);
    this.tokenPrivCache.set(token.id, privs);
    return privs;
  }

  private readonly tokenPrivCache = new Map<string, ReadonlySet<string> | null>();

  private intersect(token: TokenSpec): ReadonlySet<string> | null {
    const owner = this.users.find((u) => u.userid === token.id.split('!')[0]);
    if (!owner) return null;
    const userPrivs = ROLE_PRIVS[owner.role];
    if (token.privsep === false) return userPrivs;
    return new Set([...ROLE_PRIVS[token.role]].filter((p) => userPrivs.has(p)));
  }

  private verifyTicket(ticket: string): string | null {
    const m = /^PVE:([^:]+):([0-9A-F]{8})::(.+)$/.exec(ticket);
    if (!m) return null;
    const plain = `PVE:${m[1]}:${m[2]}`;
    if (!safeEqual(this.sign(plain), m[3]!)) return null;
    const age = this.nowSec() - parseInt(m[2]!, 16);
    if (age < -300 || age >= TICKET_LIFETIME_S) return null;
    return m[1]!;
  }

  private verifyCsrf(header: string | string[] | undefined, userid: string): boolean {
    if (typeof header !== 'string') return false;
    const m = /^([0-9A-F]{8}):(.+)$/.exec(header);
    if (!m) return false;
    const age = this.nowSec() - parseInt(m[1]!, 16);
    return age > -300 && age < TICKET_LIFETIME_S && safeEqual(this.sign(`${m[1]}:${userid}`), m[2]!);
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64').replace(/=+$/, '');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0 || part.slice(0, i).trim() !== name) continue;
    const raw = part.slice(i + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}
