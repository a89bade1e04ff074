// The HA manager's read side: its live status (quorum, master, one lrm per node, one service per
// HA-managed guest), PVE 9's rules, and one resource's configuration.
import { createHash } from 'node:crypto';
import { fail } from '../errors.js';
import type { SimContainer } from '../model/cluster.js';
import type { HaRuleSpec } from '../scenarios/types.js';
import { haResource, haSid } from './cluster.js';
import type { ApiContext } from './context.js';
import type { Json } from './views.js';

/** Perl's scalar localtime (UTC), as the HA status strings carry it: `Thu Jan  1 09:00:00 2026`. */
function perlTime(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    d.getUTCMonth()
  ]!;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export function haStatusCurrent(ctx: ApiContext): unknown {
  const { cluster: c, time } = ctx.world;
  const nodes = [...c.nodes.values()];
  const online = nodes.filter((n) => n.online);
  const quorate = online.length * 2 > nodes.length;
  const local = nodes[0]!.name;
  const out: Json[] = [
    {
      id: 'quorum',
      type: 'quorum',
      node: local,
      status: quorate ? 'OK' : `No quorum on node '${local}'!`,
      quorate: quorate ? 1 : 0,
    },
  ];
  const managed = c.list().filter((g) => g.ha);
  // Without a single HA resource the CRM never ran: PVE shows the quorum entry only.
  if (managed.length === 0) return out;
  // The CRM and LRMs write their status every 10 s (the metrics tick's cadence here).
  const stamp = Math.floor(time / 10_000) * 10;
  const master = online[0]?.name ?? local;
  out.push({
    id: 'master',
    type: 'master',
    node: master,
    status: `${master} (active, ${perlTime(stamp * 1000)})`,
    timestamp: stamp,
  });
  for (const n of nodes) {
    const busy = managed.some((g) => g.node === n.name);
    const mode = !n.online ? 'old timestamp - dead?' : busy ? 'active' : 'idle';
    out.push({
      id: `lrm:${n.name}`,
      type: 'lrm',
      node: n.name,
      status: `${n.name} (${mode}, ${perlTime(stamp * 1000)})`,
      timestamp: stamp,
    });
  }
  for (const g of managed) out.push(serviceEntry(g, c.nodes.get(g.node)?.online ?? false));
  return out;
}

function serviceEntry(g: SimContainer, nodeOnline: boolean): Json {
  const sid = haSid(g);
  const want = g.ha!.state;
  // The CRM's view: a guest that is where it was asked to be, or on the way there.
  const crm = !nodeOnline ? 'fence' : want === 'started' && g.status !== 'running' ? 'request_start' : want;
  return {
    id: `service:${sid}`,
    type: 'service',
    sid,
    node: g.node,
    status: `${sid} (${g.node}, ${crm})`,
    state: crm,
    crm_state: crm,
    request_state: want,
    max_relocate: 1,
    max_restart: 1,
    failback: 1,
  };
}

function encodeRule(r: HaRuleSpec, order: number, digest: string): Json {
  const e: Json = { rule: r.rule, type: r.type, resources: [...r.resources].sort().join(','), order, digest };
  if (r.type === 'node-affinity') {
    e.nodes = r.nodes.join(',');
    e.strict = r.strict ? 1 : 0;
  } else e.affinity = r.affinity;
  if (r.comment !== undefined) e.comment = r.comment;
  return e;
}

function rulesDigest(rules: HaRuleSpec[]): string {
  return createHash('sha1').update(JSON.stringify(rules)).digest('hex');
}

export function haRules(ctx: ApiContext): unknown {
  const rules = ctx.world.spec.haRules ?? [];
  const digest = rulesDigest(rules);
  return rules
    .map((r, i) => ({ r, order: i + 1 }))
    .filter(({ r }) => ctx.params.type === undefined || r.type === ctx.params.type)
    .filter(({ r }) => ctx.params.resource === undefined || r.resources.includes(String(ctx.params.resource)))
    .map(({ r, order }) => encodeRule(r, order, digest));
}

/** `ct:101`, `vm:200`, or a bare vmid (PVE looks its type up). */
export function haResourceRead(ctx: ApiContext): unknown {
  const sid = String(ctx.params.sid);
  const m = /^(?:(ct|vm):)?(\d+)$/.exec(sid);
  const g = m ? ctx.world.cluster.containers.get(Number(m[2])) : undefined;
  const wanted = m?.[1];
  if (!m || !g || !g.ha || (wanted !== undefined && wanted !== (g.type === 'qemu' ? 'vm' : 'ct')))
    fail(`no such resource '${sid}'`);
  const managed = ctx.world.cluster.list().filter((x) => x.ha);
  const digest = createHash('sha1')
    .update(managed.map((x) => `${haSid(x)}:${x.ha!.state}`).join('\n'))
    .digest('hex');
  return { ...haResource(g), failback: 1, digest };
}
