// What the alert integration tests share: steady memory on srv-px2 and thresholds just above it.
import type { TestSim } from '../../support/sim';

export async function nodeMemoryPercent(sim: TestSim, node: string): Promise<number> {
  const snapshot = await sim.pve.clusterSnapshot();
  const n = snapshot.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node ${node}`);
  return (n.mem / n.maxmem) * 100;
}

/**
 * Pins srv-px2's containers at steady levels and returns thresholds 3 and 1.5 points over its
 * memory; pushMemory() then adds 2.2 GiB (about 7 points of 32 GiB), calm() takes it back.
 */
export async function srvPx2MemoryRule(sim: TestSim) {
  await sim.admin('PUT', '/_sim/containers/101/usage', { memMiB: 1800, cpu: 0.1 });
  await sim.admin('PUT', '/_sim/containers/1402/usage', { memMiB: 350, cpu: 0.1 });
  const base = await nodeMemoryPercent(sim, 'srv-px2');
  return {
    above: Math.round((base + 3) * 10) / 10,
    resolveBelow: Math.round((base + 1.5) * 10) / 10,
    pushMemory: () => sim.admin('PUT', '/_sim/containers/101/usage', { memMiB: 4000 }),
    calm: () => sim.admin('PUT', '/_sim/containers/101/usage', { memMiB: 1800 }),
  };
}
