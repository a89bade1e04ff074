// The CLI's one look at the cluster (GET /cluster/resources): rows for `status`, and the checks
// that turn an unknown vmid or node into a usage error before any workflow starts.
import { describeScope, isManaged, zoneIndex, zoneOf, type ManagedScope, type Zones } from '../domain';
import { isPveError, splitTags, type ClusterResource } from '../proxmox';
import type { Context } from './context';
import { CliError, ExitCode, UsageError } from './exit-codes';
import { percentOf, roundPercent } from './output';
import { retryRead } from './retry';

export interface NodeRow {
  name: string;
  /** Its configured zone, or null: a node in no zone is a zone of its own. */
  zone: string | null;
  status: string;
  cpuPercent: number | null;
  memPercent: number | null;
  diskPercent: number | null;
  containers: number;
}

export interface ContainerRow {
  vmid: number;
  name: string;
  node: string;
  status: string;
  cpuPercent: number | null;
  memPercent: number | null;
  diskPercent: number | null;
  managed: boolean;
  lock?: string;
}

export interface ClusterView {
  nodes: NodeRow[];
  containers: ContainerRow[];
}

/**
 * One GET /cluster/resources, retried briefly on a transient failure; failures become exit codes
 * with the endpoint named (never a secret).
 */
export async function observe(ctx: Context): Promise<ClusterResource[]> {
  let endpoint = 'the Proxmox VE API';
  try {
    const pve = ctx.pve();
    endpoint = `the Proxmox VE API (${pve.describe()})`;
    return await retryRead(() => pve.clusterResources());
  } catch (err) {
    if (!isPveError(err)) throw err;
    switch (err.kind) {
      case 'node-unreachable':
      case 'timeout':
      case 'server':
        throw new CliError(ExitCode.unreachable, `cannot reach ${endpoint}: ${err.message}`);
      case 'unauthorized':
      case 'forbidden':
        throw new CliError(
          ExitCode.usage,
          `${endpoint} refused the credentials: ${err.message}; ${credentialsHint(ctx)}`,
        );
      case 'tls-rejected':
        throw new CliError(
          ExitCode.usage,
          `${endpoint}: the server certificate is not trusted: ${err.message}; set proxmox.caFile or ` +
            'proxmox.fingerprint (or PROXMOX_CA_FILE, PROXMOX_FINGERPRINT)',
        );
      case 'invalid-parameter':
        throw new CliError(ExitCode.usage, `config error: ${err.message}`);
      default:
        throw new CliError(ExitCode.failed, `${endpoint}: ${err.message}`);
    }
  }
}

/** Names the credentials this command used: a user's password or an API token, never both. */
function credentialsHint(ctx: Context): string {
  const p = ctx.config.proxmox;
  if (p.username !== undefined) {
    return (
      `check proxmox.username (${p.username}) and password (or PROXMOX_USER, PROXMOX_PASSWORD) ` +
      "and the user's permissions"
    );
  }
  return (
    `check proxmox.tokenId${p.tokenId === undefined ? '' : ` (${p.tokenId})`} and tokenSecret ` +
    "(or PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET) and the token's permissions"
  );
}

export function clusterView(
  resources: readonly ClusterResource[],
  scope: ManagedScope,
  zones: Zones = {},
): ClusterView {
  const zoned = zoneIndex(zones);
  const containers: ContainerRow[] = resources
    .filter((r) => r.type === 'lxc' && r.vmid !== undefined)
    .map((r) => {
      const row: ContainerRow = {
        vmid: r.vmid ?? 0,
        name: r.name ?? `CT${r.vmid ?? ''}`,
        node: r.node ?? '',
        status: r.status ?? 'unknown',
        cpuPercent: roundPercent((r.cpu ?? 0) * 100),
        memPercent: roundPercent(percentOf(r.mem ?? 0, r.maxmem ?? 0)),
        diskPercent: roundPercent(percentOf(r.disk ?? 0, r.maxdisk ?? 0)),
        managed: isManaged(managedFacts(r), scope),
      };
      if (r.lock !== undefined && r.lock !== '') row.lock = r.lock;
      return row;
    })
    .sort((a, b) => a.vmid - b.vmid);
  const nodes: NodeRow[] = resources
    .filter((r) => r.type === 'node')
    .map((r) => {
      const name = r.node ?? r.id.replace(/^node\//, '');
      const online = r.status === 'online';
      return {
        name,
        zone: zoned.has(name) ? zoneOf(zoned, name) : null,
        status: r.status ?? 'unknown',
        // An offline node reports zeros, which would read as an idle node.
        cpuPercent: online ? roundPercent((r.cpu ?? 0) * 100) : null,
        memPercent: online ? roundPercent(percentOf(r.mem ?? 0, r.maxmem ?? 0)) : null,
        diskPercent: online ? roundPercent(percentOf(r.disk ?? 0, r.maxdisk ?? 0)) : null,
        containers: containers.filter((c) => c.node === name).length,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { nodes, containers };
}

function managedFacts(r: ClusterResource) {
  return {
    vmid: r.vmid ?? 0,
    tags: splitTags(r.tags),
    template: r.template ?? false,
    ...(r.pool === undefined || r.pool === '' ? {} : { pool: r.pool }),
  };
}

/** The container the command names, which must exist, be an LXC container and be managed. */
export function requireManagedContainer(
  resources: readonly ClusterResource[],
  vmid: number,
  scope: ManagedScope,
  command: string,
): ClusterResource {
  const guest = resources.find((r) => (r.type === 'lxc' || r.type === 'qemu') && r.vmid === vmid);
  if (guest === undefined) throw new UsageError(`${command}: no container ${vmid} in the cluster`, command);
  const name = guest.name === undefined ? '' : ` (${guest.name})`;
  if (guest.type !== 'lxc') {
    throw new UsageError(
      `${command}: ${vmid}${name} is a virtual machine; pve-autopilot runs containers`,
      command,
    );
  }
  if (guest.template === true) throw new UsageError(`${command}: CT ${vmid}${name} is a template`, command);
  if (!isManaged(managedFacts(guest), scope)) {
    throw new UsageError(
      `${command}: CT ${vmid}${name} is not managed by pve-autopilot (scope: ${describeScope(scope)})`,
      command,
    );
  }
  return guest;
}

export function requireNode(resources: readonly ClusterResource[], node: string, command: string): void {
  const nodes = resources.filter((r) => r.type === 'node').map((r) => r.node ?? r.id.replace(/^node\//, ''));
  if (!nodes.includes(node)) {
    throw new UsageError(
      `${command}: unknown node "${node}"; the cluster has ${nodes.sort().join(', ')}`,
      command,
    );
  }
}
