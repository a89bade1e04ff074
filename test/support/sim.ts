// pve-sim for integration tests: one simulator per test file on a free port, with a typed client
// over verified HTTPS and a helper for its admin API.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { startSimulator, type RunningSim, type SimOptions } from '../../simulator/index';
import { createPveClient, type PveClient } from '../../src/proxmox';

export interface TestSim {
  sim: RunningSim;
  pve: PveClient;
  /** Calls the admin API (`/_sim/...`) and returns its `data`. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startTestSim(opts: Partial<SimOptions> = {}): Promise<TestSim> {
  const sim = await startSimulator({
    scenario: 'lab-2node',
    port: 0,
    clock: { mode: 'realtime', speed: 20 },
    dataDir: await mkdtemp(join(tmpdir(), 'pve-sim-test-')),
    quiet: true,
    ...opts,
  });
  const pve = createPveClient({
    host: sim.host,
    port: sim.port,
    schema: sim.schema,
    tokenId: sim.token.id,
    tokenSecret: sim.token.secret,
    ...(sim.schema === 'https' ? { caFile: sim.caFile } : {}),
  });
  const dispatcher = new Agent({ connect: { ca: sim.caPem } });
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await undiciFetch(`${sim.url}${path}`, {
      method,
      dispatcher,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
    return (JSON.parse(text) as { data: T }).data;
  };
  return {
    sim,
    pve,
    admin,
    stop: async () => {
      await pve.close();
      await dispatcher.close();
      await sim.stop();
    },
  };
}

/**
 * How many vzmigrate tasks pve-sim ran for the container, on every node: a saga that survived a
 * crash must have migrated it exactly once.
 */
export async function vzmigrates(sim: TestSim, vmid: number): Promise<number> {
  let n = 0;
  for (const { node } of await sim.pve.nodes()) {
    const tasks = await sim.pve.tasks(node, { vmid, typefilter: 'vzmigrate', source: 'all' });
    n += tasks.filter((t) => t.type === 'vzmigrate').length;
  }
  return n;
}
