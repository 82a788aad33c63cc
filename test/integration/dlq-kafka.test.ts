import { afterAll, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createKafkaDlqWriter } from '../../relay/adapters/dlq-kafka.ts';
import { createKafkaDlqReader } from '../../relay/adapters/dlq-reader.ts';
import type { SourceRecord } from '../../relay/core/contracts.ts';
import { parseDeadLetter } from '../../relay/core/dlq-headers.ts';
import { createTopic, deleteTopics } from '../support/relay-kafka.ts';

const topics: string[] = [];
afterAll(() => deleteTopics(...topics));

it('writes dead letters with the original record and ferry-error-* headers, and reads them back', async () => {
  const dlqTopic = await createTopic('dlq', 2);
  topics.push(dlqTopic);
  const writer = createKafkaDlqWriter({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  const enc = new TextEncoder();
  const original = (i: number): SourceRecord => ({
    topic: 'clean.shipments',
    partition: 3,
    offset: BigInt(100 + i),
    key: enc.encode(`key-${i}`),
    value: enc.encode(JSON.stringify({ i })),
    headers: [
      { key: 'ferry-event-id', value: enc.encode(`ev-${i}`) },
      { key: 'trace', value: enc.encode('t') },
    ],
    timestamp: 1_700_000_000_000,
  });
  const reason = {
    stage: 'deliver' as const,
    code: 'FERRY_SINK_REJECTED',
    message: 'HTTP 400',
    sink: 'billing',
    attempts: 1,
    firstFailureAt: 1_700_000_001_000,
    lastFailureAt: 1_700_000_002_000,
  };
  // Written in one tick: they share produce requests, and each write resolves once acked.
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.write(original(i), reason)));
  await writer.close();

  const reader = createKafkaDlqReader({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  const back: SourceRecord[] = [];
  for await (const r of reader.read()) back.push(r);
  await reader.close();
  expect(back).toHaveLength(20);
  const letters = back.map((r) => parseDeadLetter(r)!);
  const dec = new TextDecoder();
  const byOffset = new Map(letters.map((l) => [l.original.offset, l]));
  for (let i = 0; i < 20; i++) {
    const l = byOffset.get(BigInt(100 + i))!;
    expect(l.reason).toEqual(reason);
    expect(l.original.topic).toBe('clean.shipments');
    expect(l.original.partition).toBe(3);
    expect(dec.decode(l.original.key!)).toBe(`key-${i}`);
    expect(JSON.parse(dec.decode(l.original.value!))).toEqual({ i });
    expect(l.original.headers.map((h) => [h.key, dec.decode(h.value!)])).toEqual([
      ['ferry-event-id', `ev-${i}`],
      ['trace', 't'],
    ]);
  }
});

it('a storm of dead letters is batched: 3000 writes acked quickly, all readable', async () => {
  const dlqTopic = await createTopic('dlq-storm', 3);
  topics.push(dlqTopic);
  const writer = createKafkaDlqWriter({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  const enc = new TextEncoder();
  const reason = {
    stage: 'parse' as const,
    code: 'FERRY_RECORD_UNPARSEABLE',
    message: 'not JSON',
    sink: '*',
    attempts: 0,
    firstFailureAt: 1,
    lastFailureAt: 1,
  };
  await Promise.all(
    Array.from({ length: 3000 }, (_, i) =>
      writer.write(
        {
          topic: 't',
          partition: 0,
          offset: BigInt(i),
          key: null,
          value: enc.encode('{'),
          headers: [],
          timestamp: 0,
        },
        reason,
      ),
    ),
  );
  await writer.close();
  const reader = createKafkaDlqReader({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  const offsets = new Set<bigint>();
  for await (const r of reader.read()) offsets.add(parseDeadLetter(r)!.original.offset);
  await reader.close();
  expect(offsets.size).toBe(3000);
});

it('reading a DLQ topic that does not exist yields nothing', async () => {
  const reader = createKafkaDlqReader({ brokers: [KAFKA_BOOTSTRAP], topic: `absent-${Date.now()}` });
  const back: SourceRecord[] = [];
  for await (const r of reader.read()) back.push(r);
  await reader.close();
  expect(back).toEqual([]);
});
