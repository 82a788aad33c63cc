// The relay's process lifecycle, shared by every runtime's entry point: find the config
// (`--config <file>` or FERRY_CONFIG), validate it (exit 2 with the error list), build the relay,
// serve the Hono app, start consuming, and on SIGTERM/SIGINT shut down gracefully within the deadline.

import { connectionFailure, KafkaConnectionError, kafkaClientOptions } from '../wasm/index.ts';
import type { ClientAddress } from './app/client-address.ts';
import type { HttpSender } from './core/contracts.ts';
import type { SinkOptions } from './core/options.ts';
import { createRedactor } from './core/redact.ts';
import { buildRelay, type HttpClientName, parseConfig, type RelayConfig } from './index.ts';
import { createJsonLogger } from './logging.ts';
import { configSecrets } from './secrets.ts';

export interface RuntimeHost {
  readonly name: 'node' | 'deno' | 'bun';
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readTextFile(path: string): Promise<string>;
  serve(
    fetch: (request: Request) => Response | Promise<Response>,
    options: { port: number; hostname: string },
  ): Promise<{ port: number; close(): Promise<void> }>;
  onSignal(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
  exit(code: number): never;
  /** The HTTP clients this runtime can send with, its default first (config `http.client`). */
  readonly httpClients: readonly HttpClientName[];
  createSender(sink: SinkOptions, client: HttpClientName): HttpSender;
  /** Reads a request's client address from what this runtime's server passes to `fetch`. */
  readonly clientAddress?: ClientAddress;
}

export const EXIT_INVALID_CONFIG = 2;

export function configPathFrom(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const i = args.indexOf('--config');
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith('--config='));
  if (eq) return eq.slice('--config='.length);
  return env.FERRY_CONFIG;
}

export type ConfigRead =
  | { readonly ok: true; readonly config: RelayConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Reads and validates the config file: every problem as one line, nothing thrown. */
export async function readConfig(host: RuntimeHost, path: string): Promise<ConfigRead> {
  let text: string;
  try {
    text = await host.readTextFile(path);
  } catch (e) {
    return {
      ok: false,
      errors: [`cannot read config ${path}: ${e instanceof Error ? e.message : String(e)}`],
    };
  }
  const result = parseConfig(text, host.env);
  if (!result.ok) return result;
  // A setting this runtime cannot honour is refused, never silently replaced by another client.
  const client = result.config.http.client;
  if (client !== undefined && !host.httpClients.includes(client))
    return {
      ok: false,
      errors: [
        `http.client: ${client} is not available on ${host.name} (use ${host.httpClients.join(' or ')})`,
      ],
    };
  // Drains from the HTTP Proxy run on a schedule, which the edge entries own (a Worker's cron trigger,
  // Deno.cron); this long-lived process consumes with a Kafka group or takes pushes instead.
  if (result.config.source === 'http-proxy')
    return {
      ok: false,
      errors: [
        `source: http-proxy is drained by the edge entries' cron trigger; on ${host.name} use source: kafka (or push)`,
      ],
    };
  // The TLS files are read now: a missing, unreadable or expired one is a config error, not a crash.
  if (result.config.source === 'kafka') {
    try {
      kafkaClientOptions(result.config.kafka.connection);
    } catch (e) {
      if (!(e instanceof KafkaConnectionError)) throw e;
      return { ok: false, errors: [e.message] };
    }
  }
  return result;
}

/** Reads and validates the config; on failure prints every error and exits 2. */
export async function loadConfigOrExit(host: RuntimeHost, path: string | undefined): Promise<RelayConfig> {
  if (!path) {
    console.error('ferry relay: no config file (pass --config <file> or set FERRY_CONFIG)');
    return host.exit(EXIT_INVALID_CONFIG);
  }
  const result = await readConfig(host, path);
  if (result.ok) return result.config;
  if (result.errors.length === 1 && result.errors[0]!.startsWith('cannot read config'))
    console.error(`ferry relay: ${result.errors[0]}`);
  else {
    console.error(`ferry relay: invalid config ${path}:`);
    for (const error of result.errors) console.error(`  ${error}`);
  }
  return host.exit(EXIT_INVALID_CONFIG);
}

export async function runRelay(host: RuntimeHost): Promise<void> {
  const path = configPathFrom(host.args, host.env);
  const config = await loadConfigOrExit(host, path);
  // One redactor for the log and everything the relay passes on: every configured secret plus patterns.
  const redact = createRedactor({ secrets: configSecrets(config) });
  const logger = createJsonLogger({ quiet: host.env.FERRY_LOG === 'quiet', redact });
  const runtime = await buildRelay({
    config,
    createSender: (sink, client) =>
      host.createSender(sink, client ?? (host.httpClients[0] as HttpClientName)),
    logger,
    instanceId: host.env.FERRY_INSTANCE_ID,
    redact,
    clientAddress: host.clientAddress,
    ...(path ? { readConfig: () => readConfig(host, path) } : {}),
  });
  const server = await host.serve(runtime.app.fetch, {
    port: config.listen.port,
    hostname: config.listen.host,
  });
  logger.info('listening', { runtime: host.name, port: server.port, instanceId: runtime.instanceId });
  // A machine-readable line on stdout for scripts and tests.
  console.log(JSON.stringify({ event: 'listening', port: server.port, instanceId: runtime.instanceId }));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadline = config.relay.shutdownTimeoutMs;
    logger.info('shutting down', { signal, deadlineMs: deadline });
    const hard = setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      host.exit(1);
    }, deadline + 5_000);
    void (async () => {
      try {
        await runtime.close(deadline);
        await server.close();
      } catch (e) {
        logger.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
      }
      clearTimeout(hard);
      console.log(JSON.stringify({ event: 'stopped', instanceId: runtime.instanceId }));
      host.exit(0);
    })();
  };
  host.onSignal('SIGTERM', () => shutdown('SIGTERM'));
  host.onSignal('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP: read the config file again and apply its routes and sinks (config-reload.ts).
  host.onSignal('SIGHUP', () => {
    if (!stopping) void runtime.reloadConfig();
  });

  try {
    await runtime.relay.start();
    console.log(JSON.stringify({ event: 'started', instanceId: runtime.instanceId }));
  } catch (e) {
    // A connection that cannot work (credentials, certificates) says why in one line.
    const why = connectionFailure(e, config.kafka.connection) ?? (e instanceof Error ? e.message : String(e));
    logger.error('relay failed to start', { error: why });
    await runtime.close(1000).catch(() => {});
    await server.close();
    host.exit(1);
  }
}
