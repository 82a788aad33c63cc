import { createHash, randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createKafkaDlqWriter } from '../../relay/adapters/dlq-kafka.ts';
import { createKafkaDlqReader } from '../../relay/adapters/dlq-reader.ts';
import type { SourceRecord } from '../../relay/core/contracts.ts';
import { parseDeadLetter } from '../../relay/core/dlq-headers.ts';
import { createTopic, deleteTopics, setTopicLimit } from '../support/relay-kafka.ts';

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

const sized = (i: number, bytes: number): SourceRecord => ({
  topic: 'clean.loads',
  partition: 0,
  offset: BigInt(i),
  key: new TextEncoder().encode(`key-${i}`),
  value: new Uint8Array(bytes).fill(0x61),
  headers: [{ key: 'ferry-event-id', value: new TextEncoder().encode(`ev-${i}`) }],
  timestamp: 0,
});
const rejected = {
  stage: 'deliver' as const,
  code: 'FERRY_SINK_REJECTED',
  message: 'HTTP 400',
  sink: 'billing',
  attempts: 1,
  firstFailureAt: 1,
  lastFailureAt: 1,
};

async function readBack(dlqTopic: string) {
  const reader = createKafkaDlqReader({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  const back: SourceRecord[] = [];
  for await (const r of reader.read()) back.push(r);
  await reader.close();
  return back;
}

it('reads the DLQ limit from the broker: batches stay under it, a record too large for it becomes a pointer', async () => {
  const dlqTopic = await createTopic('dlq-limit', 2);
  topics.push(dlqTopic);
  await setTopicLimit(dlqTopic, 20_000);
  const logs: Array<{ message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  const log = (message: string, fields?: Readonly<Record<string, unknown>>) => logs.push({ message, fields });
  const writer = createKafkaDlqWriter({
    brokers: [KAFKA_BOOTSTRAP],
    topic: dlqTopic,
    logger: { info: log, warn: log, error: log },
  });
  // 30 records that fit one by one but not together (one produce request of them all is ~45 KB),
  // and one that does not fit at all, written in one tick.
  const kinds = await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => writer.write(sized(i, 1500), rejected)),
    writer.write(sized(30, 30_000), rejected),
  ]);
  await writer.close();
  expect(logs.find((l) => l.message === 'DLQ topic limit read')?.fields).toMatchObject({
    maxMessageBytes: 20_000,
  });
  expect(kinds.slice(0, 30).every((k) => k === 'full')).toBe(true);
  expect(kinds[30]).toBe('pointer');
  const back = await readBack(dlqTopic);
  const letters = back.map((r) => parseDeadLetter(r)!);
  expect(letters.map((l) => l.original.offset).sort((a, b) => Number(a - b))).toEqual(
    Array.from({ length: 31 }, (_, i) => BigInt(i)),
  );
  const pointer = letters.find((l) => l.original.offset === 30n)!;
  expect(pointer.pointer).toEqual({
    originalSize: 30_000,
    sha256: createHash('sha256').update(sized(30, 30_000).value!).digest('hex'),
    truncated: false,
  });
  expect(pointer.original.value!.byteLength).toBeGreaterThan(15_000);
  expect(pointer.original.value!.byteLength).toBeLessThan(20_000);
  expect(new TextDecoder().decode(pointer.original.headers[0]?.value ?? undefined)).toBe('ev-30');
});

it('a too-large refusal re-sends only the refused request’s members, each once, stepping down to a pointer', async () => {
  const dlqTopic = await createTopic('dlq-partial', 2);
  topics.push(dlqTopic);
  await setTopicLimit(dlqTopic, 20_000);
  // The writer believes the limit is 1 MB (e.g. the topic was changed after start): the broker refuses.
  const writer = createKafkaDlqWriter({
    brokers: [KAFKA_BOOTSTRAP],
    topic: dlqTopic,
    maxMessageBytes: 1_000_000,
  });
  const kinds = await Promise.all([
    ...Array.from({ length: 38 }, (_, i) => writer.write(sized(i, 1500), rejected)),
    writer.write(sized(38, 50_000), rejected),
    writer.write(sized(39, 50_000), rejected),
  ]);
  await writer.close();
  expect(kinds.filter((k) => k === 'pointer')).toHaveLength(2);
  expect(kinds.slice(38)).toEqual(['pointer', 'pointer']);
  const back = await readBack(dlqTopic);
  const offsets = back.map((r) => parseDeadLetter(r)!.original.offset);
  // Every dead letter exactly once: nothing acknowledged was sent again.
  expect(offsets.sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
  const bare = back.map((r) => parseDeadLetter(r)!).filter((l) => l.pointer !== undefined);
  for (const l of bare) {
    expect(l.pointer).toMatchObject({ originalSize: 50_000, truncated: true });
    expect(l.original.value?.byteLength ?? 0).toBe(0);
  }
});

it('a DLQ topic that does not exist yet takes its limit from the broker, and is created on first write', async () => {
  const dlqTopic = `dlq-new-${randomUUID().slice(0, 8)}`;
  topics.push(dlqTopic);
  const logs: Array<{ message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  const log = (message: string, fields?: Readonly<Record<string, unknown>>) => logs.push({ message, fields });
  const writer = createKafkaDlqWriter({
    brokers: [KAFKA_BOOTSTRAP],
    topic: dlqTopic,
    logger: { info: log, warn: log, error: log },
  });
  expect(await writer.write(sized(0, 100), rejected)).toBe('full');
  await writer.close();
  const read = logs.find((l) => l.message === 'DLQ topic limit read');
  expect(read?.fields).toMatchObject({ topic: dlqTopic, from: 'broker' });
  expect(read?.fields?.maxMessageBytes).toBeGreaterThan(0);
  expect(logs.filter((l) => l.message.includes('could not be read'))).toEqual([]);
  expect(await readBack(dlqTopic)).toHaveLength(1);
});
