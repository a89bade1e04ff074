// Every workflow the worker registers. Clients start workflows by these names.
export { selfCheckWorkflow } from './self-check';
export { migrateContainerWorkflow } from './sagas/migrate';
export { scaleContainerWorkflow } from './sagas/scale';
export { clusterManagerWorkflow } from './cluster-manager';
export { provisionContainerWorkflow } from './sagas/provision';
export { dropContainerWorkflow } from './sagas/drop';
export { snapshotContainerWorkflow } from './sagas/snapshot';
export { rollbackContainerWorkflow } from './sagas/rollback';
export { generatorWorkflow } from './generator';
export { nodeDrainWorkflow } from './node-drain';
export { alertsWorkflow } from './alerts';
