// What a PVE endpoint handler gets: the world, the caller, verified parameters.
import type { Auth, Principal } from '../http/auth.js';
import type { TypedParams } from '../http/schema-check.js';
import type { LxcOps } from '../lxc.js';
import type { World } from '../world.js';

export interface ApiContext {
  world: World;
  ops: LxcOps;
  auth: Auth;
  params: TypedParams;
  /** Null only for methods open to the world (POST /access/ticket). */
  principal: Principal | null;
  fingerprint: string;
}

/** A result with PVE's extra `total` beside `data` (task lists and logs). */
export class WithTotal {
  constructor(
    readonly data: unknown,
    readonly total: number,
  ) {}
}

/** `data` already serialised to JSON (a cached answer), sent without another JSON.stringify. */
export class RawJson {
  constructor(readonly json: string) {}
}

export type Handler = (ctx: ApiContext) => unknown;

export function user(ctx: ApiContext): string {
  return ctx.principal?.authid ?? 'root@pam';
}

export function str(ctx: ApiContext, key: string): string {
  return String(ctx.params[key]);
}

export function num(ctx: ApiContext, key: string): number {
  return Number(ctx.params[key]);
}
