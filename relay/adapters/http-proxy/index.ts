// Pulling from Redpanda's HTTP Proxy: the client, the drain-driven Source, and the factory from the
// `httpProxy:` config section (what an edge composition root calls).
import type { HttpProxyConfig } from '../../config/load.ts';
import type { Clock, Logger } from '../../core/contracts.ts';
import { createHttpProxyClient } from './client.ts';
import { createHttpProxySource, type HttpProxySource } from './source.ts';

export { createHttpProxyClient, type HttpProxyClient, type ProduceRecord, type ProxyAuth } from './client.ts';
export { classifyProxyError } from './proxy-errors.ts';
export {
  createHttpProxySource,
  type DrainOptions,
  type DrainOutcome,
  type DrainReport,
  type HttpProxySource,
} from './source.ts';

/** The consumer instance's name for a relay instance: stable per deployment slot. */
export const proxyInstanceName = (config: HttpProxyConfig, instanceId: string): string =>
  `${config.instancePrefix}-${instanceId}`;

/** The Source for `source: http-proxy`; call `drain` from the host's schedule. */
export function httpProxySourceFromConfig(
  config: HttpProxyConfig,
  {
    topics,
    instanceId,
    fetch,
    clock,
    logger,
  }: {
    readonly topics: readonly string[];
    readonly instanceId: string;
    readonly fetch?: typeof globalThis.fetch;
    readonly clock?: Clock;
    readonly logger?: Logger;
  },
): HttpProxySource {
  const client = createHttpProxyClient({
    url: config.url,
    auth: config.auth,
    requestTimeoutMs: config.requestTimeoutMs,
    fetch,
  });
  return createHttpProxySource({
    client,
    group: config.group,
    topics,
    instanceName: proxyInstanceName(config, instanceId),
    fetchTimeoutMs: config.fetchTimeoutMs,
    fetchMaxBytes: config.fetchMaxBytes,
    eventIdField: config.eventIdField,
    clock,
    logger,
  });
}
