// pve-sim's library entry: start an embedded Proxmox VE cluster on a port and get back how to reach it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdmin } from './admin.js';
import { createSimServer } from './http/server.js';
import { loadScenario } from './scenarios/index.js';
import type { ScenarioSpec } from './scenarios/types.js';
import { Sim } from './sim.js';
import { dumpState, restoreState } from './state.js';
import { ensureTls } from './tls.js';

export interface SimOptions {
  /** 'lab-2node' | 'zones-6node' | 'fleet-large', or a scenario built in code (golden scenarios edit one). */
  scenario: string | ScenarioSpec;
  seed?: number; // default 1
  host?: string; // default '127.0.0.1'
  port?: number; // 0 = pick a free port; CLI default 8006
  http?: boolean; // plain HTTP instead of HTTPS
  clock?: { mode: 'realtime'; speed: number } | { mode: 'manual' }; // default realtime speed 1
  dataDir?: string; // where the cert/key/CA and fingerprint files live; default '.data/pve-sim'
  stateFile?: string; // optional persistence across restarts
  quiet?: boolean;
}

export interface RunningSim {
  url: string; // e.g. 'https://127.0.0.1:8006' (no /api2/json)
  host: string;
  port: number;
  schema: 'https' | 'http';
  caFile: string; // PEM path clients can trust
  caPem: string;
  /** File holding `PVEAPIToken=<id>=<secret>`, readable by the owner only. */
  tokenFile: string;
  fingerprint: string; // SHA-256 of the server cert, 'AA:BB:...' uppercase colon form as PVE shows it
  token: { id: string; secret: string }; // full-access token of the scenario
  /** Every token of the scenario with its role, e.g. root@pam!readonly (PVEAuditor) for 403 paths. */
  tokens: Array<{ id: string; secret: string; role: string }>;
  user: { username: string; password: string }; // for ticket login
  clusterName: string;
  advance(seconds: number): Promise<void>; // same as POST /_sim/clock/advance (manual mode)
  stop(): Promise<void>;
}

export type { ContainerSpec, NodeSpec, ScenarioSpec } from './scenarios/types.js';
export { loadScenario } from './scenarios/index.js';

/** How often the realtime clock is pushed forward without requests, and how often state is saved. */
const PUMP_MS = 100;
const SAVE_MS = 2000;

export async function startSimulator(opts: SimOptions): Promise<RunningSim> {
  const seed = opts.seed ?? 1;
  const host = opts.host ?? '127.0.0.1';
  const clock = opts.clock ?? { mode: 'realtime', speed: 1 };
  if (clock.mode === 'realtime' && !(clock.speed > 0))
    throw new Error(`clock.speed must be > 0, got ${clock.speed}`);
  const spec = typeof opts.scenario === 'string' ? loadScenario(opts.scenario, seed) : opts.scenario;
  const tls = await ensureTls(opts.dataDir ?? '.data/pve-sim', host);
  const sim = new Sim(spec, seed, clock, savedStart(opts.stateFile, spec.name));
  if (opts.stateFile && existsSync(opts.stateFile)) {
    restoreState(sim.world, JSON.parse(readFileSync(opts.stateFile, 'utf8')) as Record<string, unknown>);
  }
  const save = (): void => {
    if (!opts.stateFile) return;
    const tmp = `${opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(dumpState(sim.world)));
    renameSync(tmp, opts.stateFile);
  };

  const { server, releaseHung } = createSimServer({
    sim,
    tls: opts.http ? undefined : { key: tls.key, cert: tls.cert },
    fingerprint: tls.fingerprint,
    admin: createAdmin(sim),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8006, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const pump = clock.mode === 'realtime' ? setInterval(() => sim.world.sync(), PUMP_MS) : null;
  pump?.unref();
  const saver = opts.stateFile ? setInterval(save, SAVE_MS) : null;
  saver?.unref();

  const schema = opts.http ? 'http' : 'https';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const token = spec.tokens[0]!;
  const root = spec.users[0]!;
  // Beside the CA and fingerprint files, for a client in another process or container:
  // `PVEAPIToken=<id>=<secret>`, as the Authorization header takes it. Owner-only, like a key.
  const tokenFile = join(opts.dataDir ?? '.data/pve-sim', 'api-token');
  writeFileSync(tokenFile, `PVEAPIToken=${token.id}=${token.secret}\n`, { mode: 0o600 });
  const running: RunningSim = {
    url: `${schema}://${urlHost}:${port}`,
    host,
    port,
    schema,
    caFile: tls.caFile,
    caPem: tls.caPem,
    tokenFile,
    fingerprint: tls.fingerprint,
    token: { id: token.id, secret: token.secret },
    tokens: spec.tokens.map((t) => ({ id: t.id, secret: t.secret, role: t.role })),
    user: { username: root.userid, password: root.password },
    clusterName: spec.clusterName,
    advance: async (seconds) => {
      sim.world.advance(seconds);
    },
    stop: async () => {
      if (pump) clearInterval(pump);
      if (saver) clearInterval(saver);
      save();
      releaseHung();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  if (!opts.quiet) console.log(`pve-sim: ${spec.name} (seed ${seed}) listening on ${running.url}`);
  return running;
}

/** The simulated time a saved state had reached, so a restarted cluster continues from there. */
function savedStart(stateFile: string | undefined, scenario: string): number | undefined {
  if (!stateFile || !existsSync(stateFile)) return undefined;
  const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
    scenario?: string;
    clock?: { now?: number };
  };
  if (saved.scenario !== scenario)
    throw new Error(`state file ${stateFile} belongs to scenario '${saved.scenario}', not '${scenario}'`);
  return saved.clock?.now;
}
