export { parseDuration } from './duration.ts';
export { interpolateEnv } from './interpolate.ts';
export { type ConfigResult, parseConfig, type RelayConfig, resolveConfig } from './load.ts';
export { ConfigSchema, SinkSchema } from './schema.ts';
