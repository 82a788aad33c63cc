// What a relay config makes the relay reach: the network addresses it connects to or listens on and
// the files it reads, each with the setting that asks for it. A runtime with a permission system (Deno)
// checks these before starting, so a sink or a broker its permissions leave out is refused at start
// with the setting named, instead of failing record by record; and the same list prints the least
// permissions a config needs (`deno task relay:flags`).
import type { RelayConfig } from './load.ts';

export interface ConfigAccess {
  readonly kind: 'net' | 'read';
  /** `host:port` (IPv6 in brackets) for net, a path for read. */
  readonly value: string;
  /** The setting that needs it, e.g. `routes[0].sinks[1].url (billing)`. */
  readonly for: string;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'http:': '80',
  'https:': '443',
  'redis:': '6379',
  'rediss:': '6379',
};

/** `host:port` of a URL, with the scheme's default port; undefined for a URL that does not parse. */
export function urlAddress(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = parsed.port || DEFAULT_PORTS[parsed.protocol];
  return port === undefined ? parsed.hostname : `${parsed.hostname}:${port}`;
}

/** Every address and file the config makes the relay use, in config order, without repeats. */
export function configAccess(config: RelayConfig, configPath?: string): ConfigAccess[] {
  const out: ConfigAccess[] = [];
  const seen = new Set<string>();
  const add = (kind: ConfigAccess['kind'], value: string | undefined, what: string) => {
    if (value === undefined || seen.has(`${kind} ${value}`)) return;
    seen.add(`${kind} ${value}`);
    out.push({ kind, value, for: what });
  };
  if (configPath !== undefined) add('read', configPath, 'the config file');
  const listenHost = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  // Port 0 (any free port) is granted as `host:0`, which is what Deno checks for it.
  add('net', `${listenHost}:${config.listen.port}`, 'listen');
  // Also with a push source: the DLQ writer and the replay reader go through Kafka.
  for (const [i, broker] of config.kafka.brokers.entries()) add('net', broker, `kafka.brokers[${i}]`);
  const tls = config.kafka.connection.tls;
  if (tls !== undefined) {
    add('read', tls.ca, 'kafka.tls.ca');
    add('read', tls.cert, 'kafka.tls.cert');
    add('read', tls.key, 'kafka.tls.key');
  }
  const sinks = config.relay.routes.flatMap((route, r) =>
    route.sinks.map((sink, s) => ({ sink, at: `routes[${r}].sinks[${s}]` })),
  );
  const stores = new Set(
    sinks.filter(({ sink }) => sink.dedupe.enabled).map(({ sink }) => sink.dedupe.store),
  );
  if (stores.has('redis')) add('net', urlAddress(config.redis.url), 'redis.url');
  if (stores.has('upstash') && config.upstash !== undefined)
    add('net', urlAddress(config.upstash.url), 'upstash.url');
  for (const { sink, at } of sinks) add('net', urlAddress(sink.url), `${at}.url (${sink.id})`);
  return out;
}
