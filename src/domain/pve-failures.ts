// The Proxmox error taxonomy's names and retryability, in one table: src/proxmox raises errors by
// it, and workflow retry policies (which may not import src/proxmox) list its final types from it.

export const pveErrorKinds = [
  'unauthorized',
  'forbidden',
  'not-found',
  'locked',
  'already-in-state',
  'stale-digest',
  'invalid-parameter',
  'conflict',
  'node-unreachable',
  'server',
  'timeout',
  'tls-rejected',
  'task-failed',
  'bad-response',
] as const;

export type PveErrorKind = (typeof pveErrorKinds)[number];

interface KindTraits {
  /** Name used as ApplicationFailure.type and in RetryPolicy.nonRetryableErrorTypes. */
  readonly failureType: string;
  readonly retryable: boolean;
}

/**
 * Why each kind is (not) retryable:
 * - unauthorized/forbidden: credentials or ACLs must change first; a retry meets the same answer.
 * - not-found: the container, node or snapshot is gone; the caller decides what that means.
 * - locked: locks (migrate, backup, snapshot...) are released when their task ends.
 * - already-in-state: the goal already holds (CT already running); an ensure-activity treats it as done.
 * - stale-digest: someone else changed the config; a retry re-reads the digest and applies again.
 * - invalid-parameter: the request itself is wrong.
 * - conflict: the CT's state forbids the operation (running CT on destroy, protection mode).
 * - node-unreachable/server/timeout: transient by nature (node reboot, pveproxy restart, slow storage).
 * - tls-rejected: the server's certificate does not match the configured CA or fingerprint; an operator
 *   has to look, retrying would only repeat the refusal.
 * - task-failed: the task ran and failed; the saga, not a blind retry, decides (compensate or not).
 * - bad-response: the answer does not match the API contract; retrying reads the same shape.
 */
const traits: Record<PveErrorKind, KindTraits> = {
  unauthorized: { failureType: 'PveUnauthorized', retryable: false },
  forbidden: { failureType: 'PveForbidden', retryable: false },
  'not-found': { failureType: 'PveNotFound', retryable: false },
  locked: { failureType: 'PveLocked', retryable: true },
  'already-in-state': { failureType: 'PveAlreadyInState', retryable: false },
  'stale-digest': { failureType: 'PveStaleDigest', retryable: true },
  'invalid-parameter': { failureType: 'PveInvalidParameter', retryable: false },
  conflict: { failureType: 'PveConflict', retryable: false },
  'node-unreachable': { failureType: 'PveNodeUnreachable', retryable: true },
  server: { failureType: 'PveServer', retryable: true },
  timeout: { failureType: 'PveTimeout', retryable: true },
  'tls-rejected': { failureType: 'PveTlsRejected', retryable: false },
  'task-failed': { failureType: 'PveTaskFailed', retryable: false },
  'bad-response': { failureType: 'PveBadResponse', retryable: false },
};

export function failureTypeOf(kind: PveErrorKind): string {
  return traits[kind].failureType;
}

export function isRetryableKind(kind: PveErrorKind): boolean {
  return traits[kind].retryable;
}

/** ApplicationFailure types that retry policies must not retry (`nonRetryableErrorTypes`). */
export const nonRetryableErrorTypes: readonly string[] = pveErrorKinds
  .filter((kind) => !traits[kind].retryable)
  .map((kind) => traits[kind].failureType);

/** All ApplicationFailure types this module can produce. */
export const pveFailureTypes: readonly string[] = pveErrorKinds.map((kind) => traits[kind].failureType);
