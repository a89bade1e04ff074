// Public surface of src/proxmox: the client, its errors, task helpers and the snapshot mapper.

export {
  createPveClient,
  type PveClient,
  type PveClientDeps,
  type Upid,
  type CreateContainerSpec,
  type ConfigChanges,
  type ShutdownOptions,
  type MigrateOptions,
  type DestroyOptions,
  type TaskListOptions,
} from './client';
export {
  pveConnectionSchema,
  normalizeFingerprint,
  describeConnection,
  type PveConnection,
  type PveConnectionInput,
  type PveAuth,
} from './config';
export {
  PveError,
  classifyPveError,
  classifyPveText,
  classifyNetworkError,
  isPveError,
  toApplicationFailure,
  failureTypeOf,
  isRetryableKind,
  nonRetryableErrorTypes,
  pveFailureTypes,
  pveErrorKinds,
  type PveErrorKind,
  type PveErrorInit,
  type PveErrorDetails,
  type PveResource,
  type PveExistingState,
  type PveTaskFailure,
} from './errors';
export { redactSecrets } from './redact';
export { countingRequests } from './request-count';
export * from './schemas';
export { toClusterSnapshot } from './snapshot';
export {
  waitForTask,
  findActiveTask,
  classifyTaskExit,
  recentlyFreedVmids,
  type FinishedTask,
  type TaskClient,
  type WaitForTaskOptions,
} from './tasks';
export {
  createPveFetch,
  FingerprintMismatchError,
  type PveFetch,
  type PveFetchFn,
  type PveTlsOptions,
} from './tls';
export { parseUpid, isUpid, upidVmid, type UpidParts } from './upid';
