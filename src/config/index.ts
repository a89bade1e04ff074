// pve-autopilot's configuration: one YAML file validated by one zod schema, with environment
// overrides for connection settings and secrets.

export { clusterConnectionOf, clustersOf, selectCluster, type ClusterConfig } from './clusters';
export { proxmoxConnectionOf, type CompleteProxmoxSection } from './connection';
export { ENV_OVERRIDES, applyEnvOverrides, type Env } from './env';
export { ConfigError, type ConfigProblem } from './errors';
export {
  CONFIG_PATH_VARIABLE,
  DEFAULT_CONFIG_FILE,
  loadConfig,
  locateConfig,
  type ConfigLocation,
  type LoadOptions,
} from './load';
export { defaultConfig, parseConfig, validateConfig, type ParseOptions } from './parse';
export {
  arrivalLawOf,
  containerTemplateOf,
  coreSettingsOf,
  generatorPolicyOf,
  managedScopeOf,
  ruleConfigsOf,
  spreadReportsOf,
} from './policies';
export { redactConfig } from './redact';
export {
  configSchema,
  type AutomationLevel,
  type Config,
  type ConfigInput,
  type ProxmoxSection,
  type TemporalSection,
} from './schema';
export { REDACTED } from './secrets';
