// The container operations (sagas): their inputs, validated with zod at the client edge and again
// inside the workflow, their outcomes, and the workflow id that keeps one operation per container.
import { z } from 'zod';

export const operationKinds = ['migrate', 'scale', 'provision', 'drop', 'snapshot', 'rollback'] as const;
export type OperationKind = (typeof operationKinds)[number];

/** succeeded: done and verified. refused: preflight said no, nothing was changed.
 * rolled-back: a step failed and compensation restored the start state.
 * needs-attention: compensation failed too; a human has to look. */
export type Outcome = 'succeeded' | 'refused' | 'rolled-back' | 'needs-attention';

/** The line a provision writes into a new container's description, so a retry knows its own. */
export function ownerMarker(owner: string): string {
  return `created-by: ${owner}`;
}

/** Whether a container's description carries `owner`'s marker. */
export function isOwnedBy(description: string, owner: string): boolean {
  return description.split('\n').includes(ownerMarker(owner));
}

/**
 * What tells one container from another that later gets the same vmid (PVE hands out freed ids
 * again): the owner marker a provision wrote, else the hostname, plus the MAC address PVE gave its
 * first network device at creation (random per container on PVE) when it has one. All of them
 * survive migrate, scale, snapshot and stop; a saga records the identity at preflight and treats
 * another one as another container.
 */
export function containerIdentity(description: string, hostname: string, net0 = ''): string {
  const marker = description.split('\n').find((line) => line.startsWith(ownerMarker('')));
  const mac = /(?:^|,)hwaddr=([0-9A-Fa-f:]+)/.exec(net0)?.[1];
  return `${marker ?? `hostname: ${hostname}`}${mac ? `, hwaddr ${mac.toUpperCase()}` : ''}`;
}

/** One operation per container at a time: every saga on a container runs under this id. */
export function containerOperationId(cluster: string, vmid: number): string {
  return `ct-${cluster}-${vmid}`;
}

const vmid = z.number().int().min(100).max(999_999_999);
/** Caps that catch a typo (a byte count for MiB) with a clear message before any node is asked. */
const MAX_MEMORY_MIB = 4_194_304;
const memoryMiB = (min: number, what: string) =>
  z.number().int().min(min).max(MAX_MEMORY_MIB, `expected at most ${MAX_MEMORY_MIB} MiB (4 TiB) of ${what}`);
const cores = z.number().int().min(1).max(8192, 'expected at most 8192 cores');
/** A change or a new container keeps its node's memory within this share (admission control). */
const admissionShare = z.number().gt(0).max(1).default(0.9);
const nodeName = z.string().regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/, 'expected a node name');
const snapname = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,39}$/, 'expected a snapshot name (letter first, up to 40)');
/**
 * Ignored. The managed scope is the worker's own configuration, checked by every activity that
 * writes; an input cannot widen it. Runs started before that carried a scope in their input, so the
 * field is still accepted (and only read when such a run replays); startOperation rejects it.
 */
const legacyScope = z
  .strictObject({
    vmidMin: vmid,
    vmidMax: vmid,
    pool: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
  })
  .optional();

export const migrateInputSchema = z.strictObject({
  vmid,
  target: nodeName,
  scope: legacyScope,
  /** offline: shutdown, move, start (each a step here). restart: PVE's single restart-mode task. */
  mode: z.enum(['offline', 'restart']).default('offline'),
  shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  admissionShare,
  reason: z.string().max(500).optional(),
});
export type MigrateInput = z.input<typeof migrateInputSchema>;

export const scaleInputSchema = z
  .strictObject({
    vmid,
    scope: legacyScope,
    cores: cores.optional(),
    memoryMiB: memoryMiB(16, 'memory').optional(),
    swapMiB: memoryMiB(0, 'swap').optional(),
    admissionShare,
    /** How long to watch the container after the change before verifying it survived. */
    settleSeconds: z.number().min(0).max(3600).default(5),
    reason: z.string().max(500).optional(),
  })
  .refine((s) => s.cores !== undefined || s.memoryMiB !== undefined || s.swapMiB !== undefined, {
    message: 'expected at least one of cores, memoryMiB, swapMiB',
  });
export type ScaleInput = z.input<typeof scaleInputSchema>;

export const provisionInputSchema = z.strictObject({
  /**
   * The vmid to create, allocated by the caller (allocateVmid), which runs the saga under the
   * container's workflow id. Absent only in runs started before that, which allocate it themselves.
   */
  vmid: vmid.optional(),
  node: nodeName,
  scope: legacyScope,
  memoryMiB: memoryMiB(16, 'memory'),
  cores: cores.default(1),
  swapMiB: memoryMiB(0, 'swap').default(512),
  diskGiB: z.number().int().min(1).max(65_536, 'expected at most 65536 GiB').default(8),
  admissionShare,
  template: z.string().min(1),
  storage: z.string().min(1).default('local-lvm'),
  net0: z.string().min(1).default('name=eth0,bridge=vmbr0,ip=dhcp'),
  hostnamePrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?$/i)
    .default('autopilot'),
  unprivileged: z.boolean().default(true),
  start: z.boolean().default(true),
  reason: z.string().max(500).optional(),
});
export type ProvisionInput = z.input<typeof provisionInputSchema>;

export const dropInputSchema = z.strictObject({
  vmid,
  scope: legacyScope,
  mode: z.enum(['stop', 'destroy']).default('destroy'),
  /** Take a snapshot first (meaningful with mode stop; a destroy removes snapshots too). */
  snapshotFirst: z.boolean().default(false),
  shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  reason: z.string().max(500).optional(),
});
export type DropInput = z.input<typeof dropInputSchema>;

export const snapshotInputSchema = z.strictObject({
  vmid,
  scope: legacyScope,
  name: snapname,
  description: z.string().max(1000).optional(),
});
export type SnapshotInput = z.input<typeof snapshotInputSchema>;

export const rollbackInputSchema = z.strictObject({ vmid, scope: legacyScope, name: snapname });
export type RollbackInput = z.input<typeof rollbackInputSchema>;

/** The Web UI's summary of a saga run: what is done, and why when the input says. */
export function runSummary(operation: OperationKind, input: Record<string, unknown>): string {
  const why = typeof input.reason === 'string' && input.reason ? ` — ${input.reason}` : '';
  return operationSummary(operation, input) + why;
}

/** One line saying what an operation does, e.g. `migrate CT 1401 to srv-px2`. */
export function operationSummary(operation: OperationKind, input: Record<string, unknown>): string {
  const ct = `CT ${String(input.vmid ?? '(new)')}`;
  switch (operation) {
    case 'migrate':
      return `migrate ${ct} to ${String(input.target)}${input.mode === 'restart' ? ' (restart mode)' : ''}`;
    case 'scale': {
      const parts = [
        input.cores !== undefined ? `cores ${String(input.cores)}` : '',
        input.memoryMiB !== undefined ? `memory ${String(input.memoryMiB)} MiB` : '',
        input.swapMiB !== undefined ? `swap ${String(input.swapMiB)} MiB` : '',
      ].filter(Boolean);
      return `scale ${ct}: ${parts.join(', ')}`;
    }
    case 'provision':
      return input.vmid === undefined
        ? `provision a ${String(input.memoryMiB)} MiB container on ${String(input.node)}`
        : `provision ${ct} (${String(input.memoryMiB)} MiB) on ${String(input.node)}`;
    case 'drop':
      return `drop ${ct} (${String(input.mode ?? 'destroy')})`;
    case 'snapshot':
      return `snapshot ${ct} as ${String(input.name)}`;
    case 'rollback':
      return `roll back ${ct} to ${String(input.name)}`;
  }
}

export interface OperationResult {
  operation: OperationKind;
  outcome: Outcome;
  vmid: number;
  /** Where the container is at the end. */
  node: string;
  /** Steps in the order they ran, e.g. ["preflight", "shutdown", "migrate", "start", "verify"]. */
  steps: string[];
  detail: string;
}

/**
 * How a refusal reads wherever it is reported (the CLI, a parent's status), e.g.
 * `migrate of CT 1401 refused: CT 1401 is locked (backup)`; `detail` is the reason alone.
 */
export function refusalMessage(result: Pick<OperationResult, 'operation' | 'vmid' | 'detail'>): string {
  // vmid 0: a provision refused before it had an id.
  return `${result.operation} of CT ${result.vmid || '?'} refused: ${result.detail}`;
}

/** Renders zod issues as `field: message; field: message` for failures and CLI errors. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}

export type AutomationLevel = 'off' | 'recommend' | 'auto';

/** What every generated container looks like apart from its node and memory. */
export interface ContainerTemplate {
  template: string;
  storage: string;
  diskGiB: number;
  cores: number;
  swapMiB: number;
  net0: string;
  hostnamePrefix: string;
  unprivileged: boolean;
}
