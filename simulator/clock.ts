// The simulated clock: realtime at a speed factor (1 = wall time) or manual, moved only by advance().
// Time is integer milliseconds since the Unix epoch, in simulated time.

export type ClockMode = { mode: 'realtime'; speed: number } | { mode: 'manual' };

export class SimClock {
  private baseSim: number;
  private baseWall: number;

  constructor(
    readonly config: ClockMode,
    startMs: number,
  ) {
    this.baseSim = startMs;
    this.baseWall = performance.now();
  }

  get speed(): number {
    return this.config.mode === 'realtime' ? this.config.speed : 0;
  }

  now(): number {
    if (this.config.mode === 'manual') return this.baseSim;
    return this.baseSim + Math.floor((performance.now() - this.baseWall) * this.config.speed);
  }

  /** Moves simulated time forward; in realtime mode it jumps ahead and keeps running from there. */
  advance(ms: number): void {
    this.baseSim = this.now() + ms;
    this.baseWall = performance.now();
  }
}
