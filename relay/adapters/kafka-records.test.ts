import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import { expect, it } from 'vitest';
import { decodeBatches } from './kafka-records.ts';

const rec = (
  offsetDelta: number,
  key: string | null,
  value: string | null,
  headers: [string, string][] = [],
): KafkaRecord => ({
  length: 0,
  attributes: 0,
  timestampDelta: BigInt(offsetDelta * 10),
  offsetDelta,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]),
});

const batch = (
  firstOffset: bigint,
  records: KafkaRecord[],
  attributes = 0,
  lastOffsetDelta = records.length - 1,
): RecordsBatch => ({
  firstOffset,
  length: 0,
  partitionLeaderEpoch: 0,
  magic: 2,
  crc: 0,
  attributes,
  lastOffsetDelta,
  firstTimestamp: 1_000n,
  maxTimestamp: 1_000n,
  producerId: -1n,
  producerEpoch: -1,
  firstSequence: -1,
  records,
});

it('decodes records with offsets, timestamps, keys, values and headers', () => {
  const { records, next } = decodeBatches(
    't',
    2,
    [batch(10n, [rec(0, 'a', '1', [['h', 'v']]), rec(1, null, null)])],
    10n,
  );
  expect(next).toBe(12n);
  expect(records.map((r) => [r.topic, r.partition, r.offset, r.timestamp])).toEqual([
    ['t', 2, 10n, 1000],
    ['t', 2, 11n, 1010],
  ]);
  expect(Buffer.from(records[0]!.key!).toString()).toBe('a');
  expect(records[0]!.headers).toEqual([{ key: 'h', value: Buffer.from('v') }]);
  expect(records[1]!.key).toBeNull();
  expect(records[1]!.value).toBeNull();
});

it('skips records before the requested offset (a batch may start earlier)', () => {
  const { records, next } = decodeBatches(
    't',
    0,
    [batch(5n, [rec(0, 'a', '1'), rec(1, 'b', '2'), rec(2, 'c', '3')])],
    7n,
  );
  expect(records.map((r) => r.offset)).toEqual([7n]);
  expect(next).toBe(8n);
});

it('control batches (transaction markers) advance the position but yield nothing', () => {
  const control = batch(20n, [rec(0, null, null)], 0x20);
  const { records, next } = decodeBatches(
    't',
    0,
    [batch(18n, [rec(0, 'a', '1'), rec(1, 'b', '2')]), control],
    18n,
  );
  expect(records.map((r) => r.offset)).toEqual([18n, 19n]);
  expect(next).toBe(21n);
});

it('no batches: no position change', () => {
  expect(decodeBatches('t', 0, [], 3n)).toEqual({ records: [], next: undefined });
});
