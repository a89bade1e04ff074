// The shape of pve-autopilot.yaml: every setting, its default (the INSA lab's values) and what a
// valid value looks like. Unknown keys are rejected so that a typo never silently means a default.

import { z } from 'zod';
import {
  flag,
  integerBetween,
  matching,
  nonEmptyText,
  numberBetween,
  oneOf,
  positiveNumber,
  reject,
  section,
  share,
  whenFieldsValid,
} from './fields';
import { ruleNames, ruleRegistry, type RuleName } from '../policy/rules/registry';
import { alertsSchema } from '../alerts/schema';

const DAY_SECONDS = 86_400;

/** One top-level section per rule of the registry, e.g. `lab:`, each with the rule's defaults. */
const ruleSections = Object.fromEntries(
  ruleNames.map((name) => [name, ruleRegistry[name].config.prefault({})]),
) as { [K in RuleName]: z.ZodPrefault<(typeof ruleRegistry)[K]['config']> };

// Same formats as src/proxmox's pveConnectionSchema, so a bad value is caught here, with its path.
const UUID_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_ID = /^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/;
const FINGERPRINT = /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;
const HOST = /^[^\s/:]+$|^\[[0-9A-Fa-f:.]+\]$/;
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s/:[\]]+):\d{1,5}$/;
const REALM = /^[A-Za-z][A-Za-z0-9.\-_]+$/;
const PVE_TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;
const HOSTNAME_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?$/i;

/**
 * Failure zones: zone name → its nodes, each node in at most one zone. Nodes the cluster has but no
 * zone names are zones of their own; the cluster is needed to check the names (see
 * src/domain/zones.ts), so that happens where it is read.
 */
export const zonesSchema = z
  .record(
    matching(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'a zone name of letters, digits, . _ -'),
    z
      .array(matching(/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/, 'a node name'), {
        error: 'expected a list of node names',
      })
      .min(1, { error: 'expected at least one node name' }),
    { error: 'expected a mapping of zone name to a list of node names' },
  )
  .superRefine((zones, ctx) => {
    const zoneOfNode = new Map<string, string>();
    for (const [zone, nodes] of Object.entries(zones)) {
      nodes.forEach((node, i) => {
        const other = zoneOfNode.get(node);
        if (other !== undefined) {
          const where = other === zone ? `twice in zone ${zone}` : `in zone ${other} already`;
          ctx.addIssue({
            code: 'custom',
            path: [zone, i],
            message: `expected each node in at most one zone; ${node} is ${where}`,
            input: node,
          });
        }
        zoneOfNode.set(node, zone);
      });
    }
  }, whenFieldsValid);

/** Names this cluster in workflow ids (`ct-<name>-<vmid>`), so two clusters can share a namespace. */
export const clusterSchema = section({
  name: matching(/^[a-z0-9][a-z0-9-]{0,30}$/i, 'letters, digits and hyphens, up to 31').default('pve'),
});

export const scopeSchema = section({
  vmidMin: integerBetween(100, 999_999_999).default(1400),
  vmidMax: integerBetween(100, 999_999_999).default(1499),
  pool: nonEmptyText('a pool id').optional(),
  tag: matching(PVE_TAG, 'a tag of letters, digits, _ - + .').optional(),
}).superRefine((s, ctx) => {
  if (s.vmidMax < s.vmidMin) {
    reject(ctx, 'vmidMax', `expected at least scope.vmidMin (${s.vmidMin})`, s.vmidMax);
  }
}, whenFieldsValid);

export const managerSchema = section({
  automation: oneOf(['off', 'recommend', 'auto']).default('auto'),
  cycleSeconds: positiveNumber(DAY_SECONDS).default(10),
  capacityBasis: oneOf(['allocated', 'used']).default('allocated'),
  maxConcurrent: integerBetween(1, 64).default(2),
  maxPerNode: integerBetween(1, 64).default(2),
  maxPerKind: section({
    migrate: integerBetween(1, 64).optional(),
    scale: integerBetween(1, 64).optional(),
    drop: integerBetween(1, 64).optional(),
  }).prefault({}),
  cooldownSeconds: numberBetween(0, DAY_SECONDS).default(60),
  admissionShare: share().default(0.9),
  cpuAdmissionShare: share().default(0.9),
});

const arrivalSchema = section({
  law: oneOf(['periodic', 'uniform', 'exponential']).default('periodic'),
  /** The period of `periodic`, the mean of `exponential`. */
  meanSeconds: positiveNumber(DAY_SECONDS).default(5),
  /** The bounds of `uniform`. */
  minSeconds: numberBetween(0, DAY_SECONDS).default(1),
  maxSeconds: positiveNumber(DAY_SECONDS).default(10),
}).superRefine((a, ctx) => {
  if (a.maxSeconds < a.minSeconds) {
    reject(
      ctx,
      'maxSeconds',
      `expected at least generator.arrival.minSeconds (${a.minSeconds})`,
      a.maxSeconds,
    );
  }
}, whenFieldsValid);

export const generatorSchema = section({
  // Above 0: a limit of 0 would never let the generator create anything.
  limitPercent: positiveNumber(100).default(16),
  nodeWeights: z
    .record(z.string(), numberBetween(0, 1_000_000), { error: 'expected a mapping of node name to weight' })
    .default({ 'srv-px1': 66, 'srv-px2': 33 })
    .superRefine((weights, ctx) => {
      const values = Object.values(weights);
      if (values.length > 0 && values.every((w) => w === 0)) {
        reject(ctx, undefined, 'expected at least one positive weight, or no weights at all', weights);
      }
    }, whenFieldsValid),
  memoryChoicesMiB: z
    .array(integerBetween(16, 4_194_304), { error: 'expected a list of memory sizes in MiB' })
    .min(1, { error: 'expected at least one memory size in MiB' })
    .default([256, 512, 768]),
  arrival: arrivalSchema.prefault({}),
  backoffSeconds: positiveNumber(DAY_SECONDS).default(30),
});

export const containerSchema = section({
  template: nonEmptyText('a template volume id such as local:vztmpl/....tar.zst').default(
    'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  ),
  storage: nonEmptyText('a storage id').default('local-lvm'),
  diskGiB: integerBetween(1, 65_536).default(8),
  cores: integerBetween(1, 512).default(1),
  swapMiB: integerBetween(0, 4_194_304).default(512),
  net0: nonEmptyText('a PVE net0 string such as name=eth0,bridge=vmbr0,ip=dhcp').default(
    'name=eth0,bridge=vmbr0,ip=dhcp',
  ),
  hostnamePrefix: matching(HOSTNAME_PREFIX, 'letters, digits and inner hyphens').default('autopilot'),
  unprivileged: flag().default(true),
  /** A vmid a destroy freed this recently is not given to a new container (PVE reuses ids). */
  vmidQuarantineMinutes: integerBetween(0, 1440).default(10),
});

/** Field names match src/temporal's TemporalSettings, so this section is passed through as is. */
export const temporalSchema = section({
  address: matching(HOST_PORT, 'HOST:PORT, e.g. 127.0.0.1:7233').default('127.0.0.1:7233'),
  namespace: nonEmptyText('a namespace').default('default'),
  taskQueue: nonEmptyText('a task queue name').default('pve-autopilot'),
  apiKey: nonEmptyText('an API key').optional(),
  /** The Web UI's base URL for the CLI's links (npm start writes its own); TEMPORAL_UI_URL wins. */
  uiUrl: matching(
    /^https?:\/\/[^\s/]+(?:\/\S*)?$/,
    'an http(s) URL such as http://127.0.0.1:8233',
  ).optional(),
  tls: section({
    certFile: nonEmptyText('a path to a client certificate').optional(),
    keyFile: nonEmptyText('a path to a client key').optional(),
    caFile: nonEmptyText('a path to a CA certificate').optional(),
    serverName: nonEmptyText('a TLS server name').optional(),
  })
    .superRefine((tls, ctx) => {
      if (tls.certFile !== undefined && tls.keyFile === undefined) {
        reject(ctx, 'keyFile', 'expected a client key path alongside certFile', tls.keyFile);
      }
      if (tls.keyFile !== undefined && tls.certFile === undefined) {
        reject(ctx, 'certFile', 'expected a client certificate path alongside keyFile', tls.certFile);
      }
    }, whenFieldsValid)
    .optional(),
});

/**
 * Field names match src/proxmox's pveConnectionSchema, so this section is passed through as is.
 * host and credentials may be absent here (commands that only talk to Temporal need neither);
 * proxmoxConnectionOf() requires them where a Proxmox client is built.
 */
export const proxmoxSchema = section({
  host: matching(HOST, 'a host name or IP address, without scheme or port').optional(),
  port: integerBetween(1, 65_535).default(8006),
  schema: oneOf(['https', 'http']).default('https'),
  tokenId: matching(TOKEN_ID, 'USER@REALM!TOKENID, e.g. root@pam!autopilot').optional(),
  tokenSecret: matching(UUID_LOWER, 'a lowercase UUID (the API token secret)').optional(),
  username: nonEmptyText('a user name such as root@pam').optional(),
  password: z.string({ error: 'expected a password' }).min(1, { error: 'expected a password' }).optional(),
  realm: matching(REALM, 'a realm id such as pam or pve').optional(),
  caFile: nonEmptyText('a path to a CA certificate').optional(),
  fingerprint: matching(FINGERPRINT, 'a SHA-256 fingerprint, 32 hex byte pairs like AB:CD:...').optional(),
  timeoutMs: integerBetween(100, 600_000).default(15_000),
}).superRefine((p, ctx) => {
  const token = p.tokenId !== undefined || p.tokenSecret !== undefined;
  const password = p.username !== undefined || p.password !== undefined || p.realm !== undefined;
  if (token && password) {
    reject(ctx, 'tokenId', 'expected either tokenId+tokenSecret or username+password, not both', p.tokenId);
    return;
  }
  if (p.tokenId !== undefined && p.tokenSecret === undefined) {
    reject(ctx, 'tokenSecret', 'expected the token secret alongside tokenId', p.tokenSecret);
  }
  if (p.tokenSecret !== undefined && p.tokenId === undefined) {
    reject(ctx, 'tokenId', 'expected the token id alongside tokenSecret', p.tokenId);
  }
  if (password && p.username === undefined) {
    reject(ctx, 'username', 'expected a user name alongside password/realm', p.username);
  }
  if (password && p.password === undefined) {
    reject(ctx, 'password', 'expected a password alongside username', p.password);
  }
  // The same rule src/proxmox applies when it builds the client: credentials never cross the
  // network in clear, so http is for a local TLS-terminating proxy only.
  if (p.schema === 'http' && p.host !== undefined && !LOOPBACK_HOSTS.has(p.host)) {
    reject(
      ctx,
      'schema',
      `expected https: 'http' is allowed only for a loopback host, not ${p.host}`,
      p.schema,
    );
  }
}, whenFieldsValid);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * One Proxmox cluster of a deployment that runs several (see clusters.ts): its own name, task queue
 * and connection; a scope/manager/generator/container section given here replaces the top-level one.
 */
const clusterEntrySchema = section({
  name: matching(/^[a-z0-9][a-z0-9-]{0,30}$/i, 'letters, digits and hyphens, up to 31'),
  taskQueue: nonEmptyText('a task queue name').optional(),
  proxmox: proxmoxSchema,
  scope: scopeSchema.optional(),
  manager: managerSchema.optional(),
  generator: generatorSchema.optional(),
  container: containerSchema.optional(),
  zones: zonesSchema.optional(),
});

const clustersSchema = z
  .array(clusterEntrySchema, { error: 'expected a list of clusters, each with a name and proxmox settings' })
  .min(1, { error: 'expected at least one cluster (or no clusters key)' })
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      if (seen.has(entry.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: 'expected a name no other cluster has',
          input: entry.name,
        });
      }
      seen.add(entry.name);
    });
  }, whenFieldsValid);

export const configSchema = section({
  cluster: clusterSchema.prefault({}),
  scope: scopeSchema.prefault({}),
  manager: managerSchema.prefault({}),
  ...ruleSections,
  generator: generatorSchema.prefault({}),
  container: containerSchema.prefault({}),
  zones: zonesSchema.default({}),
  temporal: temporalSchema.prefault({}),
  proxmox: proxmoxSchema.prefault({}),
  clusters: clustersSchema.optional(),
  // Durable alerts (src/alerts): rules and sinks, shared by every cluster of the file.
  alerts: alertsSchema.prefault({}),
});

/** A validated configuration with every default filled in. */
export type Config = z.output<typeof configSchema>;
/** What a config file may contain: everything optional. */
export type ConfigInput = z.input<typeof configSchema>;
export type ProxmoxSection = Config['proxmox'];
export type TemporalSection = Config['temporal'];
export type AutomationLevel = Config['manager']['automation'];
