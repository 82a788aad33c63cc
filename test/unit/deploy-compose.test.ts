// deploy/compose/compose.yaml cannot run here (no Docker engine), so its graph is checked statically:
// images, ports, volumes, health checks and dependencies are consistent, and each service agrees with
// the repository's own files (redpanda.yaml's listeners, the local stack's schema, the Debezium
// connector and version, the relay's config schema, rpk's flags).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../relay/config/index.ts';
import { parseRpkArgv } from '../fixtures/rpk/argv.ts';

const root = join(import.meta.dirname, '..', '..');
const composeDir = join(root, 'deploy/compose');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  stop_grace_period?: string;
  user?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(read('deploy/compose/compose.yaml')) as Compose;
const services = Object.entries(compose.services);
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

/** Compose's `${NAME:-default}` interpolation, with the defaults only (a user with no .env file). */
const interpolate = (s: string) =>
  s.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def?: string) => {
    if (def === undefined) throw new Error(`compose.yaml needs ${name} set: docker compose up would fail`);
    return def;
  });

const seconds = (d: string) => {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as const)[m[2] as 'ms' | 's' | 'm'];
};

const volumeSource = (v: string) => v.split(':')[0] as string;
const isBind = (v: string) => /^[./]/.test(volumeSource(v));

describe('deploy/compose/compose.yaml', () => {
  it('has every part of the pipeline', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'connect',
        'connector-init',
        'console',
        'grafana',
        'mock-api',
        'postgres',
        'prometheus',
        'redis',
        'redpanda',
        'redpanda-init',
        'relay',
        'transforms-build',
      ].sort(),
    );
  });

  it.each(services)(
    '%s has a pinned image (or the repository image built from the Containerfile)',
    (_n, s) => {
      expect(s.image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      expect(s.image).not.toMatch(/:latest$/);
      if (s.image === 'ferry:local') {
        expect(s.build).toEqual({ context: '../..', dockerfile: 'Containerfile' });
        expect(resolve(composeDir, '../..')).toBe(root);
      } else {
        expect(s.build).toBeUndefined();
      }
    },
  );

  it('uses no host port twice, nor one of the local stack', () => {
    const host = services.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(host.every((p) => /^\d+$/.test(p ?? ''))).toBe(true);
    expect(new Set(host).size).toBe(host.length);
    for (const p of ['19092', '19093', '18083', '15432', '16379']) expect(host).not.toContain(p);
  });

  it('declares every named volume it mounts and mounts every one it declares; bind mounts exist', () => {
    const named = new Set<string>();
    for (const [name, s] of services)
      for (const v of s.volumes ?? []) {
        if (isBind(v))
          expect(existsSync(resolve(composeDir, volumeSource(v))), `${name}: ${volumeSource(v)}`).toBe(true);
        else named.add(volumeSource(v));
      }
    expect([...named].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  it.each(services.filter(([, s]) => s.healthcheck))('%s has a runnable health check', (_n, s) => {
    expect(['CMD', 'CMD-SHELL']).toContain(s.healthcheck?.test[0]);
    expect(s.healthcheck?.test.length).toBeGreaterThan(1);
  });

  it('depends only on services that exist, waits for health only where there is a check, and has no cycle', () => {
    for (const [name, s] of services)
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} -> ${dep}`).toBeDefined();
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(target?.healthcheck, `${name} -> ${dep}`).toBeDefined();
        if (condition === 'service_completed_successfully') {
          expect(target?.restart, `${dep} is a one-shot`).toBe('no');
          expect(target?.healthcheck).toBeUndefined();
        }
      }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') throw new Error(`dependency cycle: ${[...path, n].join(' -> ')}`);
      state.set(n, 'visiting');
      for (const d of Object.keys(compose.services[n]?.depends_on ?? {})) visit(d, [...path, n]);
      state.set(n, 'done');
    };
    for (const [name] of services) visit(name, []);
  });

  it('starts without any variable the user must set', () => {
    const text = read('deploy/compose/compose.yaml')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    expect(() => interpolate(text)).not.toThrow();
  });
});

describe('each Compose service against the repository', () => {
  it('redpanda: the listeners of redpanda.yaml, as rpk v24.3.2 flags, and data transforms on as a cluster property', () => {
    const rp = svc('redpanda');
    const parsed = parseRpkArgv(rp.command ?? []);
    expect(parsed.ok ? 'ok' : parsed.problem).toBe('ok');
    if (!parsed.ok) return;
    const node = parse(read('redpanda.yaml')).redpanda;
    const listeners = (l: { name: string; address: string; port: number }[]) =>
      l.map((x) => `${x.name}://${x.address}:${x.port}`).join(',');
    expect(parsed.flags['kafka-addr']?.join(',')).toBe(listeners(node.kafka_api));
    expect(parsed.flags['advertise-kafka-addr']?.join(',')).toBe(listeners(node.advertised_kafka_api));
    expect(parsed.flags['rpc-addr']).toEqual([`${node.rpc_server.address}:${node.rpc_server.port}`]);
    expect(parsed.flags['advertise-rpc-addr']).toEqual([
      `${node.advertised_rpc_api.address}:${node.advertised_rpc_api.port}`,
    ]);
    const external = node.kafka_api.find((l: { name: string }) => l.name === 'external').port;
    expect(rp.ports).toContain(`${external}:${external}`);

    const mount = rp.volumes?.find((v) => v.endsWith(':/etc/redpanda/.bootstrap.yaml:ro'));
    expect(mount).toBeDefined();
    const bootstrap = parse(readFileSync(resolve(composeDir, volumeSource(mount ?? '')), 'utf8'));
    expect(bootstrap.data_transforms_enabled).toBe(true);
    for (const k of Object.keys(bootstrap)) expect(bootstrap[k]).toEqual(node[k]); // one set of cluster properties
  });

  it('console: points at the internal Kafka listener and the Admin API', () => {
    const env = svc('console').environment ?? {};
    expect(env.KAFKA_BROKERS).toBe('redpanda:9092');
    expect(env.REDPANDA_ADMINAPI_URLS).toBe('http://redpanda:9644');
  });

  it('postgres: logical decoding and the local stack schema, loaded on first start', () => {
    const pg = svc('postgres');
    expect(pg.command).toEqual(expect.arrayContaining(['-c', 'wal_level=logical']));
    expect(pg.volumes).toContain('../local/sql/schema.sql:/docker-entrypoint-initdb.d/10-schema.sql:ro');
    expect(read('deploy/local/sql/schema.sql')).toMatch(/create publication ferry_publication/i);
  });

  it('connect: Debezium 3 at the version the local stack runs, with the connector of deploy/debezium', () => {
    const version = /<debezium\.version>([^<]+)</.exec(read('deploy/local/pom.xml'))?.[1];
    expect(version).toMatch(/^3\./);
    expect(svc('connect').image).toBe(`quay.io/debezium/connect:${version}`);
    expect(svc('connector-init').image).toBe(svc('connect').image);
    const local = JSON.parse(read('deploy/debezium/supply-chain.json'));
    const here = JSON.parse(read('deploy/compose/connector.json'));
    expect(here).toEqual({
      ...local,
      'database.hostname': 'postgres',
      'database.port': '5432',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Connect's config provider syntax
      'database.password': '${env:POSTGRES_PASSWORD}',
    });
    const env = svc('connect').environment ?? {};
    expect(env.CONNECT_CONFIG_PROVIDERS).toBe('env');
    expect(env.POSTGRES_PASSWORD).toBe(svc('postgres').environment?.POSTGRES_PASSWORD);
    expect(svc('connector-init').command?.at(-1)).toBe(
      'http://connect:8083/connectors/ferry-supply-chain/config',
    );
  });

  it('redis: AOF on with fsync every second, on a volume', () => {
    const r = svc('redis');
    expect(r.command?.join(' ')).toContain('--appendonly yes --appendfsync everysec');
    expect(r.volumes).toContain('redis-data:/data');
  });

  it('redpanda-init: the deploy script with the modules transforms-build wrote, after both are ready', () => {
    const init = svc('redpanda-init');
    expect(init.image).toBe(svc('redpanda').image);
    expect(init.command).toEqual(['/ferry/deploy/redpanda/deploy-transforms.sh']);
    expect(init.volumes).toContain('../redpanda:/ferry/deploy/redpanda:ro');
    expect(init.volumes).toContain('../../transforms:/ferry/transforms:ro');
    const wasmDir = init.environment?.FERRY_WASM_DIR;
    expect(init.environment?.FERRY_SKIP_BUILD).toBe('1');
    expect(init.volumes).toContain(`wasm:${wasmDir}:ro`);
    const build = svc('transforms-build');
    expect(build.command).toEqual(['transform', 'build', '--out-dir', '/wasm']);
    expect(build.volumes).toContain('wasm:/wasm');
    expect(init.depends_on?.['transforms-build']?.condition).toBe('service_completed_successfully');
    expect(init.depends_on?.redpanda?.condition).toBe('service_healthy');
    expect(init.environment?.RPK_BROKERS).toBe('redpanda:9092');
    // The cdc topics get the partitions Debezium would give them.
    const connector = JSON.parse(read('deploy/debezium/supply-chain.json'));
    expect(init.environment?.PARTITIONS).toBe(connector['topic.creation.default.partitions']);
  });

  it('relay: a valid config, stopped with more grace than its shutdown deadline, after the topics exist', () => {
    const relay = svc('relay');
    const mount = relay.volumes?.find((v) => v.endsWith(':/etc/ferry/relay.yaml:ro')) ?? '';
    expect(relay.command).toEqual(['relay', 'run', '--config', '/etc/ferry/relay.yaml']);
    const env = Object.fromEntries(
      Object.entries(relay.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
    );
    const result = parseConfig(readFileSync(resolve(composeDir, volumeSource(mount)), 'utf8'), env);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.config.kafka.brokers).toEqual(['redpanda:9092']);
    expect(result.config.redis.url).toBe('redis://redis:6379');
    expect(seconds(relay.stop_grace_period ?? '10s') * 1000).toBeGreaterThan(
      result.config.relay.shutdownTimeoutMs + 5000,
    );
    expect(relay.ports).toContain(`${result.config.listen.port}:${result.config.listen.port}`);
    for (const sink of result.config.relay.routes.flatMap((r) => r.sinks))
      expect(new URL(sink.url.replace(/\{[^}]+\}/g, 'x')).origin).toBe('http://mock-api:18080');
    expect(svc('mock-api').command?.join(' ')).toContain('--host 0.0.0.0 --port 18080');
    expect(relay.depends_on?.['redpanda-init']?.condition).toBe('service_completed_successfully');
  });

  it('prometheus: scrapes the relay /metrics on its listen port', () => {
    const prom = parse(read('deploy/compose/prometheus.yml'));
    const job = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'ferry-relay');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0].targets).toEqual(['relay:8787']);
    expect(svc('prometheus').volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('prometheus: evaluates the alert rules of deploy/prometheus', () => {
    const prom = parse(read('deploy/compose/prometheus.yml'));
    expect(prom.rule_files).toEqual(['/etc/prometheus/alerts.yaml']);
    expect(svc('prometheus').volumes).toContain('../prometheus/alerts.yaml:/etc/prometheus/alerts.yaml:ro');
  });

  it('grafana: provisions the Prometheus datasource and the Ferry dashboard', () => {
    const g = svc('grafana');
    expect(g.volumes).toContain('../grafana/provisioning:/etc/grafana/provisioning:ro');
    const dashboardMount = g.volumes?.find((v) => v.startsWith('../grafana/ferry.json:')) ?? '';
    const inContainer = dashboardMount.split(':')[1] as string;
    const ds = parse(read('deploy/grafana/provisioning/datasources/prometheus.yaml')).datasources;
    expect(ds).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = parse(read('deploy/grafana/provisioning/dashboards/ferry.yaml')).providers;
    expect(inContainer.startsWith(`${providers[0].options.path}/`)).toBe(true);
    const dashboard = JSON.parse(read('deploy/grafana/ferry.json'));
    expect(dashboard.uid).toBe('ferry-overview');
    expect(g.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-/);
  });
});
