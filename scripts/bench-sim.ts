// Benchmark of pve-sim with fleet-large: p50/p99 latency of GET /cluster/resources and of
// status/current, the simulator's RSS, and simulated seconds per wall second at speed 60.
// Runs pve-sim as its own process (so RSS is the simulator's alone): `npx tsx scripts/bench-sim.ts`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';

const SPEED = 60;
const RESOURCES_CALLS = Number(process.env.BENCH_RESOURCES ?? 200);
const STATUS_CALLS = Number(process.env.BENCH_STATUS ?? 1000);

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    'simulator/main.ts',
    '--scenario',
    'fleet-large',
    '--port',
    '0',
    '--speed',
    String(SPEED),
    '--data-dir',
    '.data/pve-sim-bench',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const banner = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('curl ')) resolve(out);
  });
  child.once('exit', (code) => reject(new Error(`pve-sim exited with ${code}:\n${out}`)));
});
const field = (name: string): string => new RegExp(`${name}\\s+(\\S+)`).exec(banner)![1]!;
const base = field('URL');
const token = field('API token');
const dispatcher = new Agent({ connect: { ca: readFileSync(field('CA file'), 'utf8') }, connections: 4 });
const headers = { Authorization: token };

async function get(path: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, { headers, dispatcher });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.statusText}`);
  return performance.now() - t0;
}

async function admin<T>(path: string): Promise<T> {
  const res = await fetch(`${base.replace('/api2/json', '')}/_sim${path}`, { dispatcher });
  return ((await res.json()) as { data: T }).data;
}

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

try {
  const guests = (await (
    await fetch(`${base}/cluster/resources?type=vm`, { headers, dispatcher })
  ).json()) as {
    data: Array<{ vmid: number; node: string; type: string }>;
  };
  // The scenario's QEMU VMs have no /lxc status; the benchmark reads containers.
  const cts = guests.data.filter((g) => g.type === 'lxc');
  for (let i = 0; i < 10; i++) await get('/cluster/resources');

  const clock0 = await admin<{ now: number }>('/clock');
  const wall0 = performance.now();
  const resources: number[] = [];
  for (let i = 0; i < RESOURCES_CALLS; i++) resources.push(await get('/cluster/resources'));
  // The answer is cached until the model changes; any admin call counts as a change, so this
  // measures the cost of building it afresh every time.
  const fresh: number[] = [];
  for (let i = 0; i < RESOURCES_CALLS; i++) {
    await admin('/clock');
    fresh.push(await get('/cluster/resources'));
  }
  const status: number[] = [];
  for (let i = 0; i < STATUS_CALLS; i++) {
    const ct = cts[(i * 7919) % cts.length]!;
    status.push(await get(`/nodes/${ct.node}/lxc/${ct.vmid}/status/current`));
  }
  const busyRatio = ((await admin<{ now: number }>('/clock')).now - clock0.now) / (performance.now() - wall0);

  const idle0 = await admin<{ now: number }>('/clock');
  const idleWall0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const idleRatio =
    ((await admin<{ now: number }>('/clock')).now - idle0.now) / (performance.now() - idleWall0);
  const proc = await admin<{ rss: number; containers: number; vms: number; nodes: number }>('/process');

  const ms = (n: number): string => `${n.toFixed(2)} ms`;
  console.log(
    `pve-sim benchmark: fleet-large (${proc.nodes} nodes, ${proc.containers} containers, ${proc.vms} VMs), speed ${SPEED}`,
  );
  console.log(
    `  GET /cluster/resources   p50 ${ms(pct(resources, 50))}  p99 ${ms(pct(resources, 99))}  (${RESOURCES_CALLS} calls, target p50 < 25 ms)`,
  );
  console.log(
    `    rebuilt on every call  p50 ${ms(pct(fresh, 50))}  p99 ${ms(pct(fresh, 99))}  (the model changed before each call)`,
  );
  console.log(
    `  GET .../status/current   p50 ${ms(pct(status, 50))}  p99 ${ms(pct(status, 99))}  (${STATUS_CALLS} calls)`,
  );
  console.log(`  RSS                      ${(proc.rss / 1024 ** 2).toFixed(0)} MiB  (target < 300 MiB)`);
  console.log(
    `  simulated s / wall s     ${idleRatio.toFixed(1)} idle, ${busyRatio.toFixed(1)} under load  (speed ${SPEED})`,
  );
} finally {
  child.kill('SIGTERM');
}
