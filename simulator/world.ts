// One simulated cluster with everything that moves it: clock, event queue, metrics tick, tasks and
// faults. Every API call first brings the model up to the clock (sync), so answers are always current.
import type { SimClock } from './clock.js';
import { EventQueue } from './events.js';
import { FaultRegistry } from './faults.js';
import { Cluster, GiB, TICK_MS } from './model/cluster.js';
import { Rng } from './rng.js';
import type { ScenarioSpec } from './scenarios/types.js';
import { TaskManager } from './tasks.js';

export class World {
  readonly queue = new EventQueue();
  readonly rng: Rng;
  readonly faults: FaultRegistry;
  readonly cluster: Cluster;
  readonly tasks: TaskManager;
  /** Requests per "METHOD /path/{template}". */
  readonly counters = new Map<string, number>();
  /** Model time in ms: where the event queue has been run to. */
  time: number;
  /** Moves whenever the model may have changed (events ran, a write came in); keys answer caches. */
  version = 0;

  constructor(
    readonly spec: ScenarioSpec,
    readonly seed: number,
    readonly clock: SimClock,
  ) {
    this.time = clock.now();
    this.rng = new Rng(seed ^ 0x5eed5eed);
    this.faults = new FaultRegistry(this.rng);
    this.cluster = new Cluster(spec, seed, this.time);
    this.tasks = new TaskManager(
      this.queue,
      () => this.time,
      (node) => {
        const n = this.cluster.nodes.get(node);
        // pstart is the process start in clock ticks (1/100 s) since the node booted.
        return n ? Math.floor((this.time - n.bootAt) / 10) % 0xffffffff : 0;
      },
      (type) => this.faults.task(type),
    );
    this.cluster.onOom = ({ ct, node, usedBytes, totalBytes }) => {
      const gib = (b: number): string => `${(b / GiB).toFixed(2)} GiB`;
      this.tasks.record(
        node.name,
        'vzstop',
        String(ct.vmid),
        'root@pam',
        [
          `out of memory on node '${node.name}': ${gib(usedBytes)} used of ${gib(totalBytes)}`,
          `OOM killer stopped CT ${ct.vmid} (${ct.config.hostname ?? ''}), the largest memory user on the node`,
        ],
        'OK',
      );
    };
    for (const f of spec.faults ?? []) this.faults.add(f);
    const firstTick = Math.ceil((this.time + 1) / TICK_MS) * TICK_MS;
    const tick = (): void => {
      this.cluster.tick(this.time);
      this.queue.schedule(this.time + TICK_MS, tick);
    };
    this.queue.schedule(firstTick, tick);
  }

  /** Runs every event due by the clock's current time. */
  sync(): void {
    const target = this.clock.now();
    for (let ev = this.queue.peek(); ev && ev.at <= target; ev = this.queue.peek()) {
      this.queue.pop();
      if (ev.at > this.time) this.time = ev.at;
      ev.run();
      this.version++;
    }
    if (target > this.time) this.time = target;
  }

  advance(seconds: number): void {
    this.clock.advance(Math.round(seconds * 1000));
    this.sync();
  }

  /** Marks the model as changed outside the event queue (API writes, admin calls). */
  touch(): void {
    this.version++;
  }

  count(key: string): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }
}
