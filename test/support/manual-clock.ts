// For tests on pve-sim's manual clock: a loop that advances simulated time while workflows wait on
// PVE tasks, a polling wait, and running one PVE task to its end.
import { waitForTask, type PveClient, type Upid } from '../../src/proxmox';
import type { TestSim } from './sim';

export interface BackgroundClock {
  /** Holds the sim clock still: PVE tasks stop making progress. */
  hold(): void;
  release(): void;
  stop(): Promise<void>;
}

/** Sim time runs about 20x real time while workflows wait on PVE tasks. */
export function startBackgroundClock(sim: TestSim): BackgroundClock {
  let running = true;
  let held = false;
  const loop = (async () => {
    while (running) {
      if (!held) await sim.admin('POST', '/_sim/clock/advance', { seconds: 2 });
      await sleep(100);
    }
  })();
  return {
    hold: () => (held = true),
    release: () => (held = false),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Runs one PVE task to its end; anything but OK fails the test. */
export async function runTask(pve: PveClient, node: string, upid: Promise<Upid>): Promise<void> {
  const finished = await waitForTask(pve, node, await upid, { pollMs: 50 });
  if (finished.exitstatus !== 'OK') throw new Error(`task ${finished.upid}: ${finished.exitstatus}`);
}
