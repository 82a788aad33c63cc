// redpanda.yaml is for real Redpanda (not available on this machine): check it statically.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../deploy/local/config.ts';

interface Listener {
  name?: string;
  address: string;
  port: number;
}
interface RedpandaYaml {
  redpanda: {
    data_directory: string;
    data_transforms_enabled: boolean;
    kafka_api: Listener[];
    advertised_kafka_api: Listener[];
    admin: Listener[];
    rpc_server: Listener;
  };
  rpk: { kafka_api: { brokers: string[] }; admin_api: { addresses: string[] } };
}

const config = parse(readFileSync(join(ROOT, 'redpanda.yaml'), 'utf8')) as RedpandaYaml;

describe('redpanda.yaml', () => {
  it('enables data transforms in the redpanda section', () => {
    expect(config.redpanda.data_transforms_enabled).toBe(true);
  });

  it('advertises every Kafka listener it binds, by name', () => {
    const bound = config.redpanda.kafka_api.map((l) => l.name).sort();
    const advertised = config.redpanda.advertised_kafka_api.map((l) => l.name).sort();
    expect(advertised).toEqual(bound);
  });

  it('points rpk at the host-facing Kafka and Admin listeners', () => {
    const external = config.redpanda.kafka_api.find((l) => l.name === 'external')!;
    const admin = config.redpanda.admin.find((l) => l.name === 'external')!;
    expect(config.rpk.kafka_api.brokers).toEqual([`localhost:${external.port}`]);
    expect(config.rpk.admin_api.addresses).toEqual([`localhost:${admin.port}`]);
  });

  it('does not collide with the local no-Docker stack ports', () => {
    const ports = [
      ...config.redpanda.kafka_api.map((l) => l.port),
      ...config.redpanda.admin.map((l) => l.port),
      config.redpanda.rpc_server.port,
    ];
    for (const p of [19092, 19093, 18083, 15432, 16379]) expect(ports).not.toContain(p);
  });
});
