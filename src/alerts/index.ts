// Durable alerts: the `alerts:` config, the rule kinds, the state machine and the sinks' payloads.
export * from './evaluate';
export * from './input';
export * from './kinds';
export * from './messages';
export * from './payloads';
export * from './schema';
export { ensureAlertsWorkflow } from './start';
