// CDC benchmark on the local stack (not a test: it prints figures).
//  1. Burst: 50,000 row changes (25k inserts then 25k updates of shipments, committed in 5,000-row
//     transactions) → time from the first commit until all 50k events are on cdc.public.shipments.
//  2. Steady: the generator at 500 changes/s for 30 s on trailers/loads/shipments → per event,
//     commit-to-topic latency (record timestamp minus source.ts_ms, the commit time) and
//     commit-to-consumer latency (wall clock when a consumer got it minus source.ts_ms). p50/p99.
// Run: npm run bench:cdc   (the stack must be up: bin/ferry stack up)
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { cdcTopic, KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { connectorConfig } from '../../deploy/local/connect.ts';
import { GEN_TABLES, generate } from '../../deploy/local/generator/index.ts';
import { pinnedVersions } from '../../deploy/local/install.ts';
import { createAdmin, topicOffsets } from '../../deploy/local/topic-counts.ts';
import { changeKey, type DebeziumEnvelope } from '../support/cdc.ts';
import { pgClient } from '../support/pg.ts';

const BURST = Number(process.env.BURST ?? 50_000);
const STEADY_RATE = Number(process.env.STEADY_RATE ?? 500);
const STEADY_SECONDS = Number(process.env.STEADY_SECONDS ?? 30);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function totalRecords(topic: string): Promise<number> {
  const admin = createAdmin({ clientId: 'ferry-bench' });
  try {
    const parts = (await topicOffsets(admin, [topic])).get(topic) ?? [];
    return parts.reduce((s, p) => s + Number(p.high), 0);
  } finally {
    await admin.close();
  }
}

async function burst(): Promise<void> {
  const topic = cdcTopic('shipments');
  const db = await pgClient();
  const tag = `BENCH-${randomUUID().slice(0, 8)}`;
  const inserts = Math.floor(BURST / 2);
  const updates = BURST - inserts;
  const batch = 5000;
  const start = await totalRecords(topic);
  const t0 = performance.now();
  for (let done = 0; done < inserts; done += batch) {
    const n = Math.min(batch, inserts - done);
    await db.query(
      `insert into shipments (tracking_number, customer_ref, origin_facility, destination_facility, status, weight, weight_unit, pieces, declared_value_cents, promised_delivery)
       select 'FRYB' || lpad(g::text, 8, '0'), $1, 'ATL1', 'DAL1', 'created', 1 + (g % 500), 'kg', 1 + (g % 20), 1000 * g, now() + interval '3 days'
       from generate_series($2::int, $3::int) g`,
      [tag, done, done + n - 1],
    );
  }
  const ids = (
    await db.query<{ id: string }>('select id from shipments where customer_ref = $1 order by id', [tag])
  ).rows.map((r) => r.id);
  for (let done = 0; done < updates; done += batch) {
    const slice = ids.slice(done, done + batch);
    await db.query(
      `update shipments set status = 'booked', updated_at = now() where id = any($1::bigint[])`,
      [slice],
    );
  }
  const committed = performance.now();
  let arrived = start;
  while (arrived - start < BURST && performance.now() - t0 < 300_000) {
    await sleep(50);
    arrived = await totalRecords(topic);
  }
  const t1 = performance.now();
  await db.end();
  const seconds = (t1 - t0) / 1000;
  console.log(
    `\n## Burst: ${BURST.toLocaleString('en')} row changes (${inserts} inserts + ${updates} updates, ${batch}-row transactions)`,
  );
  console.log(`database commits took        ${((committed - t0) / 1000).toFixed(2)} s`);
  console.log(`first commit → all on topic  ${seconds.toFixed(2)} s   (${arrived - start} events seen)`);
  console.log(`CDC throughput               ${Math.round(BURST / seconds).toLocaleString('en')} changes/s`);
}

async function steady(): Promise<void> {
  const topics = GEN_TABLES.map((t) => cdcTopic(t));
  const admin = createAdmin({ clientId: 'ferry-bench' });
  const offsets = await topicOffsets(admin, topics);
  await admin.close();
  const groupId = `ferry-bench-${randomUUID()}`;
  const consumer = new Consumer({
    clientId: 'ferry-bench',
    groupId,
    bootstrapBrokers: [KAFKA_BOOTSTRAP],
    deserializers: stringDeserializers,
    maxWaitTime: 50,
    minBytes: 1,
  });
  const seen = new Map<string, { topicMs: number; consumerMs: number }>();
  const stream = await consumer.consume({
    topics,
    mode: 'manual',
    offsets: [...offsets].flatMap(([topic, parts]) =>
      parts.map((p) => ({ topic, partition: p.partition, offset: p.high })),
    ),
    autocommit: false,
  });
  stream.on('data', (m) => {
    const now = Date.now();
    if (!m.value) return;
    const v = JSON.parse(m.value) as DebeziumEnvelope;
    const key = JSON.parse(m.key ?? '{}') as { id?: number };
    const k = changeKey(v.source.table, v.op, key.id, v.source.txId);
    if (!seen.has(k))
      seen.set(k, { topicMs: Number(m.timestamp) - v.source.ts_ms, consumerMs: now - v.source.ts_ms });
  });
  const result = await generate({
    rate: STEADY_RATE,
    durationMs: STEADY_SECONDS * 1000,
    badShare: 0.05,
    seed: 99,
  });
  const keys = result.changes.map((c) => changeKey(c.table, c.op, c.id, c.txId));
  const deadline = Date.now() + 60_000;
  while (keys.some((k) => !seen.has(k)) && Date.now() < deadline) await sleep(100);
  await stream.close();
  await consumer.close(true);
  const got = keys.map((k) => seen.get(k)).filter((x) => x !== undefined);
  const topicMs = got.map((x) => x.topicMs).sort((a, b) => a - b);
  const consumerMs = got.map((x) => x.consumerMs).sort((a, b) => a - b);
  console.log(
    `\n## Steady: generator at ${STEADY_RATE} changes/s for ${STEADY_SECONDS} s (trailers, loads, shipments; 5% bad rows)`,
  );
  console.log(
    `committed ${result.total} changes (${Math.round(result.total / (result.elapsedMs / 1000))}/s), on topics ${got.length}`,
  );
  console.log(
    `commit → topic (record timestamp − source.ts_ms)    p50 ${pct(topicMs, 50)} ms   p99 ${pct(topicMs, 99)} ms   max ${topicMs.at(-1)} ms`,
  );
  console.log(
    `commit → consumer (wall clock − source.ts_ms)       p50 ${pct(consumerMs, 50)} ms   p99 ${pct(consumerMs, 99)} ms   max ${consumerMs.at(-1)} ms`,
  );
}

const { kafka, debezium } = pinnedVersions();
const cfg = connectorConfig();
console.log('# Ferry CDC benchmark');
console.log(
  `setup: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Kafka ${kafka} KRaft single node, Kafka Connect ${kafka} distributed (1 worker, -Xmx512m),`,
);
console.log(
  `       Debezium PostgreSQL ${debezium} (pgoutput, poll.interval.ms=${cfg['poll.interval.ms']}, max.batch.size=${cfg['max.batch.size']}, producer linger.ms=${cfg['producer.override.linger.ms']}, ${cfg['producer.override.compression.type']}),`,
);
console.log(
  '       PostgreSQL 15 (fsync on, synchronous_commit on), JSON without schemas, 6 partitions per topic, all on 127.0.0.1',
);
await burst();
await steady();
