// Copies the part of the official PVE API schema that pve-sim implements into the repo, so that
// nothing at run time or in tests reads ../shared. Run by hand: `npx tsx scripts/extract-pve-schema.ts`.
// Writes simulator/schema/pve-api.json (parameters, permissions, returns; PVE 9.1) and
// test/simulator/fixtures/pve-returns.json (return schemas of 9.1 and 8.4, for the conformance tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Beside the checkout by default; PVE_API_DIR for a checkout elsewhere (a git worktree).
const shared = process.env.PVE_API_DIR ?? join(root, '..', 'shared', 'pve-api');

/** Every method pve-sim implements; keep in step with simulator/api/routes.ts. */
export const IMPLEMENTED: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/access/ticket'],
  ['GET', '/access/permissions'],
  ['GET', '/access/domains'],
  ['GET', '/access/users'],
  ['GET', '/access/acl'],
  ['GET', '/access/roles'],
  ['GET', '/version'],
  ['GET', '/storage'],
  ['GET', '/cluster/status'],
  ['GET', '/cluster/resources'],
  ['GET', '/cluster/nextid'],
  ['GET', '/cluster/tasks'],
  ['GET', '/cluster/ha/resources'],
  ['GET', '/cluster/ha/resources/{sid}'],
  ['GET', '/cluster/ha/rules'],
  ['GET', '/cluster/ha/status/current'],
  ['GET', '/cluster/options'],
  ['GET', '/cluster/backup'],
  ['GET', '/cluster/replication'],
  ['GET', '/nodes'],
  ['GET', '/nodes/{node}/status'],
  ['GET', '/nodes/{node}/version'],
  ['GET', '/nodes/{node}/time'],
  ['GET', '/nodes/{node}/dns'],
  ['GET', '/nodes/{node}/netstat'],
  ['GET', '/nodes/{node}/subscription'],
  ['GET', '/nodes/{node}/rrddata'],
  ['GET', '/nodes/{node}/tasks'],
  ['GET', '/nodes/{node}/tasks/{upid}/status'],
  ['GET', '/nodes/{node}/tasks/{upid}/log'],
  ['GET', '/nodes/{node}/storage'],
  ['GET', '/nodes/{node}/storage/{storage}/status'],
  ['GET', '/nodes/{node}/storage/{storage}/content'],
  ['GET', '/nodes/{node}/lxc'],
  ['POST', '/nodes/{node}/lxc'],
  ['DELETE', '/nodes/{node}/lxc/{vmid}'],
  ['GET', '/nodes/{node}/lxc/{vmid}/config'],
  ['PUT', '/nodes/{node}/lxc/{vmid}/config'],
  ['GET', '/nodes/{node}/lxc/{vmid}/pending'],
  ['GET', '/nodes/{node}/lxc/{vmid}/interfaces'],
  ['GET', '/nodes/{node}/lxc/{vmid}/status/current'],
  ['POST', '/nodes/{node}/lxc/{vmid}/status/start'],
  ['POST', '/nodes/{node}/lxc/{vmid}/status/stop'],
  ['POST', '/nodes/{node}/lxc/{vmid}/status/shutdown'],
  ['POST', '/nodes/{node}/lxc/{vmid}/status/reboot'],
  ['POST', '/nodes/{node}/lxc/{vmid}/migrate'],
  ['GET', '/nodes/{node}/lxc/{vmid}/rrddata'],
  ['GET', '/nodes/{node}/lxc/{vmid}/snapshot'],
  ['POST', '/nodes/{node}/lxc/{vmid}/snapshot'],
  ['DELETE', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}'],
  ['POST', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback'],
  ['GET', '/nodes/{node}/qemu'],
  ['GET', '/nodes/{node}/qemu/{vmid}/status/current'],
  ['GET', '/nodes/{node}/qemu/{vmid}/config'],
  ['GET', '/nodes/{node}/qemu/{vmid}/pending'],
  ['GET', '/nodes/{node}/qemu/{vmid}/rrddata'],
  ['GET', '/nodes/{node}/qemu/{vmid}/snapshot'],
  ['GET', '/pools'],
  ['POST', '/pools'],
  ['PUT', '/pools'],
  ['DELETE', '/pools'],
  ['GET', '/pools/{poolid}'],
  ['PUT', '/pools/{poolid}'],
  ['DELETE', '/pools/{poolid}'],
];

interface SchemaNode {
  path: string;
  info?: Record<string, Record<string, unknown>>;
  children?: SchemaNode[];
}

function index(file: string): Map<string, SchemaNode> {
  const out = new Map<string, SchemaNode>();
  const walk = (nodes: SchemaNode[]): void => {
    for (const n of nodes) {
      out.set(n.path, n);
      walk(n.children ?? []);
    }
  };
  walk(JSON.parse(readFileSync(join(shared, file), 'utf8')) as SchemaNode[]);
  return out;
}

const PARAM_KEYS = ['type', 'optional', 'enum', 'minimum', 'maximum', 'maxLength', 'default'];
const RETURN_KEYS = ['type', 'optional', 'enum'];

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function trimReturns(r: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!r) return { type: 'null' };
  const out = pick(r, RETURN_KEYS);
  if (r.items) out.items = trimReturns(r.items as Record<string, unknown>);
  if (r.properties) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.properties as Record<string, Record<string, unknown>>).sort())
      props[k] = trimReturns(v);
    out.properties = props;
  }
  return out;
}

function trimParams(p: Record<string, unknown> | undefined): Record<string, unknown> {
  const props = (p?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props).sort()) out[k] = pick(v, PARAM_KEYS);
  return { additionalProperties: p?.additionalProperties ?? 0, properties: out };
}

const v91 = index('apidata-9.1.json');
const v84 = index('apidata-8.4.json');
const api: Record<string, unknown> = {};
const returns: Record<string, Record<string, unknown>> = { '9.1': {}, '8.4': {} };
for (const [method, path] of IMPLEMENTED) {
  const key = `${method} ${path}`;
  const info = v91.get(path)?.info?.[method];
  if (!info) throw new Error(`${key} is not in the 9.1 schema`);
  api[key] = {
    name: info.name,
    proxyto: info.proxyto ?? null,
    permissions: info.permissions ?? {},
    parameters: trimParams(info.parameters as Record<string, unknown>),
    returns: trimReturns(info.returns as Record<string, unknown>),
  };
  returns['9.1'][key] = trimReturns(info.returns as Record<string, unknown>);
  const old = v84.get(path)?.info?.[method];
  if (old) returns['8.4'][key] = trimReturns(old.returns as Record<string, unknown>);
}
writeFileSync(join(root, 'simulator/schema/pve-api.json'), JSON.stringify(api, null, 1) + '\n');
writeFileSync(
  join(root, 'test/simulator/fixtures/pve-returns.json'),
  JSON.stringify(returns, null, 1) + '\n',
);
console.log(`wrote ${IMPLEMENTED.length} methods`);
