export { configSchema, DEFAULT_CONFIG, PATH_KEYS } from './schema.js';
export type { BudgetConfig, CostRule, PolicyConfig, RprConfig, SinkConfig } from './schema.js';
export { DEMO_POOL_DIR, loadConfig, parseConfigText } from './load-config.js';
export type { ConfigOverride, LoadConfigOptions, LoadedConfig, ResolvedConfig } from './load-config.js';
export { readSecrets, SECRET_ENV } from './secrets.js';
export type { Secrets } from './secrets.js';
