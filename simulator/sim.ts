// The running simulation behind one server: the world (replaced on reset), the container operations
// over it, and authentication (which survives resets so clients stay logged in).
import { SimClock, type ClockMode } from './clock.js';
import { Auth } from './http/auth.js';
import { LxcOps } from './lxc.js';
import type { ScenarioSpec } from './scenarios/types.js';
import { World } from './world.js';

export class Sim {
  world: World;
  ops: LxcOps;
  readonly auth: Auth;

  constructor(
    readonly spec: ScenarioSpec,
    readonly seed: number,
    readonly clockMode: ClockMode,
    startMs?: number,
  ) {
    this.world = this.freshWorld(startMs);
    this.ops = new LxcOps(this.world);
    this.auth = new Auth(spec.users, spec.tokens, () => Math.floor(this.world.time / 1000));
  }

  /** Manual clocks start at the scenario's epoch (reproducible); realtime clocks at the wall clock. */
  private freshWorld(startMs?: number): World {
    const start =
      startMs ??
      (this.clockMode.mode === 'manual' ? this.spec.epoch * 1000 : Math.floor(Date.now() / 1000) * 1000);
    return new World(this.spec, this.seed, new SimClock(this.clockMode, start));
  }

  reset(): void {
    this.world = this.freshWorld();
    this.ops = new LxcOps(this.world);
  }
}
