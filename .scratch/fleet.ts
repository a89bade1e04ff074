import { startSimulator } from '../simulator/index';
import { createPveClient } from '../src/proxmox';
const sim = await startSimulator({ scenario: 'fleet-large', port: 0, clock: { mode: 'manual' }, dataDir: '/tmp/12b-simdata', quiet: true });
const pve = createPveClient({ host: sim.host, port: sim.port, schema: sim.schema, tokenId: sim.token.id, tokenSecret: sim.token.secret, ...(sim.schema === 'https' ? { caFile: sim.caFile } : {}) });
const snap = await pve.clusterSnapshot();
const by = new Map<string, {n:number, mem:number, maxmem:number, disk:number}>();
for (const c of snap.containers) { if (c.vmid<10000||c.vmid>11999) continue; const e = by.get(c.node) ?? {n:0,mem:0,maxmem:0,disk:0}; e.n++; e.maxmem+=c.maxmem; e.disk+=c.disk; by.set(c.node,e);}
const GiB=1024**3;
for (const n of snap.nodes) { const e = by.get(n.name)!; console.log(n.name, n.status, e?.n, (n.mem/GiB).toFixed(0)+'/'+(n.maxmem/GiB).toFixed(0), 'ctmax', (e.maxmem/GiB).toFixed(0), 'disk', (e.disk/GiB/e.n).toFixed(1)); }
await pve.close(); await sim.stop();
