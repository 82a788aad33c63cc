// One consumer instance of the test HTTP Proxy: a real group member over the local Kafka (the relay's
// own Kafka source does the joining, heartbeats, fetch sessions and commits), with a record buffer the
// records endpoint drains. Like Redpanda's, an instance that receives no request for `idleTimeoutMs`
// leaves its group and is forgotten (later requests for it answer 404, error_code 40403).
//
// Offsets: the proxy's API takes and returns the last consumed offset; Kafka keeps the next offset to
// read. This server stores offset + 1 in Kafka (so Kafka's own tools show the lag right) and answers
// stored - 1; over HTTP that is what Redpanda does (commit X, a new instance resumes at X + 1).
import type { Admin } from '@platformatic/kafka';
import { createKafkaSource, type KafkaSource } from '../../../relay/adapters/kafka-source.ts';
import type { SourceRecord, TopicPartition } from '../../../relay/core/contracts.ts';

export interface InstanceOptions {
  readonly brokers: readonly string[];
  readonly group: string;
  readonly name: string;
  readonly format: 'binary' | 'json';
  readonly idleTimeoutMs: number;
  readonly admin: Admin;
  readonly onExpired: () => void;
}

/** Buffered bytes past which the instance stops fetching from Kafka until a request drains it. */
const BUFFER_BYTES = 4 * 1024 * 1024;

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;
const sizeOf = (r: SourceRecord) => (r.key?.length ?? 0) + (r.value?.length ?? 0);

export interface ProxyInstance {
  readonly name: string;
  readonly format: 'binary' | 'json';
  touch(): void;
  subscribe(topics: readonly string[]): Promise<void>;
  /** Records up to maxBytes (at least one when any is buffered), waiting up to timeoutMs for some. */
  fetch(timeoutMs: number, maxBytes: number): Promise<SourceRecord[]>;
  /** Commits last-consumed offsets (empty: every partition's fetch position, as Redpanda does). */
  commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: number }>): Promise<void>;
  committed(partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: number }>>;
  close(): Promise<void>;
  readonly closed: boolean;
}

export function createProxyInstance({
  brokers,
  group,
  name,
  format,
  idleTimeoutMs,
  admin,
  onExpired,
}: InstanceOptions): ProxyInstance {
  let source: KafkaSource | undefined;
  let closed = false;
  let buffer: SourceRecord[] = [];
  let bufferedBytes = 0;
  /** Next offset per partition of what was handed out over HTTP (for an empty commit). */
  const positions = new Map<string, TopicPartition & { next: bigint }>();
  const paused = new Map<string, TopicPartition>();
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const instance: ProxyInstance = {
    name,
    format,
    get closed() {
      return closed;
    },
    touch() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void instance.close().finally(onExpired);
      }, idleTimeoutMs);
    },
    async subscribe(topics) {
      if (closed) throw new Error(`instance ${name} closed`);
      if (source) {
        await source.stop();
        buffer = [];
        bufferedBytes = 0;
      }
      const s = createKafkaSource({
        brokers,
        groupId: group,
        topics,
        clientId: `test-http-proxy-${name}`,
        fromBeginning: true,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
        rebalanceTimeoutMs: 10_000,
        maxWaitMs: 100,
        onError: () => {},
      });
      source = s;
      await s.start({
        onRecords(records) {
          for (const r of records) {
            buffer.push(r);
            bufferedBytes += sizeOf(r);
          }
          if (bufferedBytes > BUFFER_BYTES) {
            const tps = [
              ...new Map(records.map((r) => [keyOf(r), { topic: r.topic, partition: r.partition }])).values(),
            ];
            for (const tp of tps) paused.set(keyOf(tp), tp);
            s.pause(tps);
          }
          wake?.();
        },
        async onRevoked(tps) {
          const gone = new Set(tps.map(keyOf));
          buffer = buffer.filter((r) => !gone.has(keyOf(r)));
          bufferedBytes = buffer.reduce((n, r) => n + sizeOf(r), 0);
          for (const k of gone) {
            positions.delete(k);
            paused.delete(k);
          }
        },
        onAssigned() {},
      });
      // Removed (deleted, taken over, expired) while joining: its consumer must not stay in the group.
      if (closed) {
        await s.stop();
        throw new Error(`instance ${name} closed while subscribing`);
      }
    },
    async fetch(timeoutMs, maxBytes) {
      if (buffer.length === 0 && timeoutMs > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, timeoutMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
      const out: SourceRecord[] = [];
      let bytes = 0;
      while (buffer.length > 0) {
        const r = buffer[0] as SourceRecord;
        if (out.length > 0 && bytes + sizeOf(r) > maxBytes) break;
        buffer.shift();
        bytes += sizeOf(r);
        bufferedBytes -= sizeOf(r);
        out.push(r);
        positions.set(keyOf(r), { topic: r.topic, partition: r.partition, next: r.offset + 1n });
      }
      if (paused.size > 0 && bufferedBytes < BUFFER_BYTES / 2 && source) {
        source.resume([...paused.values()]);
        paused.clear();
      }
      return out;
    },
    async commit(offsets) {
      if (!source) return;
      const request =
        offsets.length === 0
          ? [...positions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next }))
          : offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset) + 1n }));
      await source.commit(request);
    },
    async committed(partitions) {
      const byTopic = new Map<string, number[]>();
      for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      const groups = await admin.listConsumerGroupOffsets({
        groups: [
          { groupId: group, topics: [...byTopic].map(([n, ps]) => ({ name: n, partitionIndexes: ps })) },
        ],
      });
      const found = new Map<string, bigint>();
      for (const g of groups)
        for (const t of g.topics)
          for (const p of t.partitions)
            found.set(keyOf({ topic: t.name, partition: p.partitionIndex }), p.committedOffset);
      return partitions.map((p) => {
        const next = found.get(keyOf(p));
        return { ...p, offset: next === undefined || next < 0n ? -1 : Number(next - 1n) };
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      wake?.();
      await source?.stop();
    },
  };
  instance.touch();
  return instance;
}
