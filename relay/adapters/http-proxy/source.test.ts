// The drain driver's logic on the real core (memory dedupe, scripted sink, memory DLQ) with a fake
// clock and an in-memory stand-in for the proxy's consumer API. The driver against the real proxy
// protocol and real Kafka: test/integration/http-proxy-source.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock, SinkRequest, SinkResponse, TopicPartition } from '../../core/contracts.ts';
import { FerryError } from '../../core/errors.ts';
import { createRelay, type Relay } from '../../core/relay.ts';
import { createRegistry } from '../../metrics/registry.ts';
import { testConfig, testSink } from '../../testing/config.ts';
import { createMemoryDlq, createScriptedSender } from '../../testing/fakes.ts';
import { createMemoryDedupeStore } from '../dedupe-memory.ts';
import type { HttpProxyClient } from './client.ts';
import { createHttpProxySource, type HttpProxySource } from './source.ts';
import type { ProxyRecord } from './wire.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Sleeps take one macrotask and then advance virtual time by their length. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        setTimeout(() => {
          now += ms;
          resolve();
        }, 0);
      }),
  };
}

interface FakeProxy extends HttpProxyClient {
  readonly calls: string[];
  readonly commits: Array<Array<TopicPartition & { next: bigint }>>;
  /** Group commits: next offset per `topic/partition`. */
  readonly committedOffsets: Map<string, bigint>;
  /** Drops the live instance (the proxy timed it out). */
  expire(): void;
  instanceAlive(): boolean;
  fail: Partial<Record<keyof HttpProxyClient, FerryError>>;
}

/**
 * One topic, `partitions` partitions of `perPartition` records each; one live instance at most (a
 * second name is not modelled). A new instance starts after the group's commit, as Redpanda's does.
 */
function fakeProxy(
  clock: ReturnType<typeof fakeClock>,
  { topic = 't', partitions = 2, perPartition = 50, batch = 20 } = {},
): FakeProxy {
  const log: ProxyRecord[][] = Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: perPartition }, (_, i) => ({
      topic,
      partition: p,
      offset: BigInt(i),
      key: enc.encode(`k${i % 5}`),
      value: enc.encode(JSON.stringify({ eventId: `e-${p}-${i}`, p, i })),
    })),
  );
  let live: { name: string; positions: bigint[] } | undefined;
  const committedOffsets = new Map<string, bigint>();
  const gone = (op: string) =>
    new FerryError('FERRY_PROXY_INSTANCE_GONE', `${op}: HTTP 404 (error_code 40403)`, {
      retryable: true,
      status: 404,
    });
  const proxy: FakeProxy = {
    calls: [],
    commits: [],
    committedOffsets,
    fail: {},
    expire() {
      live = undefined;
    },
    instanceAlive: () => live !== undefined,
    async createConsumer(_group, name) {
      proxy.calls.push('create');
      if (proxy.fail.createConsumer) throw proxy.fail.createConsumer;
      if (live)
        throw new FerryError('FERRY_PROXY_INSTANCE_EXISTS', 'HTTP 409 (error_code 40902)', {
          retryable: true,
        });
      live = {
        name,
        positions: Array.from({ length: partitions }, (_, p) => committedOffsets.get(`${topic}/${p}`) ?? 0n),
      };
      return { instanceId: name };
    },
    async subscribe() {
      proxy.calls.push('subscribe');
      if (!live) throw gone('subscribe');
    },
    async fetchRecords(_g, _i, { timeoutMs }) {
      proxy.calls.push('fetch');
      if (proxy.fail.fetchRecords) throw proxy.fail.fetchRecords;
      if (!live) throw gone('fetch');
      const out: ProxyRecord[] = [];
      for (let p = 0; p < partitions && out.length < batch; p++) {
        const pos = live.positions[p] as bigint;
        const part = log[p] as ProxyRecord[];
        const take = part.slice(Number(pos), Number(pos) + (batch - out.length));
        out.push(...take);
        live.positions[p] = pos + BigInt(take.length);
      }
      clock.advance(out.length === 0 ? timeoutMs : 1);
      return out;
    },
    async commit(_g, _i, offsets) {
      proxy.calls.push('commit');
      if (!live) throw gone('commit');
      if (offsets.length === 0) throw new Error('an empty commit commits everything fetched');
      proxy.commits.push(offsets.map((o) => ({ ...o })));
      for (const o of offsets) committedOffsets.set(`${o.topic}/${o.partition}`, o.next);
    },
    async deleteConsumer() {
      proxy.calls.push('delete');
      if (!live) throw gone('delete');
      live = undefined;
    },
    async produce() {
      return [];
    },
  };
  return proxy;
}

const running: Relay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

function setup(
  proxy: FakeProxy,
  clock: Clock,
  respond: (r: SinkRequest) => SinkResponse | Promise<SinkResponse> = () => ({
    kind: 'response',
    status: 200,
  }),
  sinkOverrides: Record<string, unknown> = {},
) {
  const config = testConfig({
    revokeTimeout: '50ms',
    routes: [{ topics: 't', sinks: [testSink('api', sinkOverrides)] }],
  });
  const sender = createScriptedSender(respond);
  const source = createHttpProxySource({
    client: proxy,
    group: 'g',
    topics: ['t'],
    instanceName: 'ferry-test',
    clock,
    fetchTimeoutMs: 100,
  });
  const dlq = createMemoryDlq();
  const relay = createRelay({
    config: config.relay,
    source,
    senders: { api: sender },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq,
    metrics: createRegistry(),
    instanceId: 'i1',
  });
  running.push(relay);
  const delivered = () => sender.requests.map((r) => r.headers['idempotency-key'] as string);
  return { relay, source, sender, dlq, delivered };
}

const drainOf = (source: HttpProxySource, relay: Relay, budgetMs = 5_000, maxRecords = 10_000) =>
  source.drain({ budgetMs, maxRecords, flush: () => relay.commitNow() });

describe('http proxy drain', () => {
  it('delivers every record once, commits the end of each partition and deletes the instance', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock);
    const { relay, source, delivered } = setup(proxy, clock);
    await relay.start();
    const report = await drainOf(source, relay);
    expect(report).toMatchObject({
      outcome: 'caught-up',
      fetched: 100,
      handed: 100,
      skipped: 0,
      abandoned: 0,
    });
    expect(new Set(delivered()).size).toBe(100);
    expect(delivered()).toContain('e-1-49'); // the event id from the value, not topic-partition-offset
    expect(proxy.committedOffsets).toEqual(
      new Map([
        ['t/0', 50n],
        ['t/1', 50n],
      ]),
    );
    expect(proxy.calls.at(-1)).toBe('delete');
    expect(proxy.instanceAlive()).toBe(false);
    // Nothing left: a second drain fetches nothing and commits nothing.
    const commits = proxy.commits.length;
    const again = await drainOf(source, relay);
    expect(again).toMatchObject({ outcome: 'caught-up', fetched: 0, handed: 0 });
    expect(proxy.commits.length).toBe(commits);
  });

  it('does not hand a record twice when the proxy rewinds a partition within a drain', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 60, batch: 20 });
    const { relay, source, delivered } = setup(proxy, clock);
    await relay.start();
    let fetches = 0;
    const fetch = proxy.fetchRecords.bind(proxy);
    proxy.fetchRecords = async (...args) => {
      const out = await fetch(...args);
      // After a rebalance hands the partition back, the proxy may serve it again from an older position.
      if (++fetches === 2) return [...out, ...out.slice(0, 5)];
      return out;
    };
    const report = await drainOf(source, relay);
    expect(report).toMatchObject({ outcome: 'caught-up', fetched: 65, skipped: 5, handed: 60 });
    expect(delivered()).toHaveLength(60);
    expect(proxy.committedOffsets.get('t/0')).toBe(60n);
  });

  it('stops at its deadline without committing unfinished records; the next drain finishes them', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 40 });
    let stuck = true;
    const { relay, source, delivered } = setup(
      proxy,
      clock,
      (r) => {
        const body = JSON.parse(typeof r.body === 'string' ? r.body : dec.decode(r.body as Uint8Array));
        if (stuck && body.i === 10) return { kind: 'response', status: 503 };
        return { kind: 'response', status: 200 };
      },
      { retry: { attempts: 1000, backoffBase: '5ms', backoffCap: '5ms' }, breaker: { threshold: 10_000 } },
    );
    await relay.start();
    const first = await drainOf(source, relay, 2_000);
    expect(first.outcome).toBe('deadline');
    expect(first.abandoned).toBeGreaterThan(0);
    // Record 10 never became terminal: nothing at or after it is committed.
    expect(proxy.committedOffsets.get('t/0')).toBe(10n);
    expect(first.committed).toEqual([{ topic: 't', partition: 0, next: 10n }]);
    expect(proxy.instanceAlive()).toBe(false);
    stuck = false;
    const second = await drainOf(source, relay);
    expect(second).toMatchObject({ outcome: 'caught-up', abandoned: 0 });
    expect(second.handed).toBe(30);
    expect(proxy.committedOffsets.get('t/0')).toBe(40n);
    expect(new Set(delivered().filter((id) => id !== 'e-0-10'))).toEqual(
      new Set(Array.from({ length: 40 }, (_, i) => `e-0-${i}`).filter((id) => id !== 'e-0-10')),
    );
  });

  it('creates the instance again when the proxy dropped it, and keeps what was terminal', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 100, batch: 10 });
    const { relay, source, delivered } = setup(proxy, clock);
    await relay.start();
    let fetches = 0;
    const fetch = proxy.fetchRecords.bind(proxy);
    proxy.fetchRecords = async (...args) => {
      if (++fetches === 4) proxy.expire();
      return fetch(...args);
    };
    const report = await drainOf(source, relay);
    expect(report).toMatchObject({ outcome: 'caught-up', instances: 2, abandoned: 0 });
    expect(proxy.calls.filter((c) => c === 'create')).toHaveLength(2);
    expect(proxy.committedOffsets.get('t/0')).toBe(100n);
    expect(new Set(delivered()).size).toBe(100);
  });

  it('takes over an instance of its name left by an earlier drain', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 10 });
    await proxy.createConsumer('g', 'ferry-test'); // a crashed drain's instance
    proxy.calls.length = 0;
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    const report = await drainOf(source, relay);
    expect(report).toMatchObject({ outcome: 'caught-up', handed: 10, instances: 1 });
    expect(proxy.calls.slice(0, 4)).toEqual(['create', 'delete', 'create', 'subscribe']);
  });

  it('ends as taken-over when a newer drain holds the name after the proxy dropped ours', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 100, batch: 10 });
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    let fetches = 0;
    const fetch = proxy.fetchRecords.bind(proxy);
    proxy.fetchRecords = async (...args) => {
      if (++fetches === 3) {
        // Ours timed out on the proxy, and a newer drain created the name before we could again.
        proxy.expire();
        await proxy.createConsumer('g', 'ferry-test');
        throw new FerryError('FERRY_PROXY_INSTANCE_GONE', 'fetch: HTTP 404 (error_code 40403)', {
          retryable: true,
        });
      }
      return fetch(...args);
    };
    const report = await drainOf(source, relay);
    expect(report.outcome).toBe('taken-over');
    expect(proxy.instanceAlive()).toBe(true); // not deleted: it is the newer drain's
    expect(proxy.calls.filter((c) => c === 'delete')).toHaveLength(0);
  });

  it('ends as taken-over, not failed, when an overlapping drain of its slot takes the name over while it subscribes', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 10 });
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    const subscribe = proxy.subscribe.bind(proxy);
    proxy.subscribe = async () => {
      proxy.calls.push('subscribe');
      // Meanwhile the other drain found our fresh instance, deleted it and created its own.
      proxy.expire();
      await proxy.createConsumer('g', 'ferry-test');
      proxy.subscribe = subscribe;
      throw new FerryError('FERRY_PROXY_INSTANCE_GONE', 'subscribe: HTTP 404 (error_code 40403)', {
        retryable: true,
      });
    };
    const report = await drainOf(source, relay);
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ outcome: 'taken-over', handed: 0 });
    expect(proxy.instanceAlive()).toBe(true); // the other drain's: not deleted
    expect(proxy.calls).toEqual(['create', 'subscribe', 'create', 'create']);
  });

  it('ends as taken-over when another drain creates the name between its take-over delete and create', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 10 });
    await proxy.createConsumer('g', 'ferry-test'); // a crashed drain's instance
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    const remove = proxy.deleteConsumer.bind(proxy);
    proxy.deleteConsumer = async (...args) => {
      await remove(...args);
      await proxy.createConsumer('g', 'ferry-test'); // the overlapping drain got in first
    };
    const report = await drainOf(source, relay);
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ outcome: 'taken-over', handed: 0 });
    expect(proxy.instanceAlive()).toBe(true);
  });

  it('fetches at most maxRecords', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 100, batch: 30 });
    const { relay, source, delivered } = setup(proxy, clock);
    await relay.start();
    const report = await drainOf(source, relay, 5_000, 45);
    expect(report).toMatchObject({ outcome: 'max-records', handed: 45, abandoned: 0 });
    expect(delivered()).toHaveLength(45);
    expect(proxy.committedOffsets.get('t/0')).toBe(45n);
    const next = await drainOf(source, relay, 5_000, 1000);
    expect(next).toMatchObject({ outcome: 'caught-up', handed: 55 });
  });

  it('reports a permanent failure with its code, and the source is not ready until a drain succeeds', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 5 });
    proxy.fail.createConsumer = new FerryError(
      'FERRY_PROXY_AUTH',
      'create consumer: HTTP 401 (error_code 40101)',
      {
        status: 401,
      },
    );
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    const report = await drainOf(source, relay);
    expect(report).toMatchObject({
      outcome: 'failed',
      handed: 0,
      error: { code: 'FERRY_PROXY_AUTH', retryable: false },
    });
    expect(source.isConnected()).toBe(false);
    expect(source.notReadyReason?.()).toContain('401');
    proxy.fail.createConsumer = undefined;
    expect((await drainOf(source, relay)).outcome).toBe('caught-up');
    expect(source.isConnected()).toBe(true);
  });

  it('does not fetch while the core has paused a partition', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 20, batch: 5 });
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    source.pause([{ topic: 't', partition: 0 }]);
    const report = await source.drain({ budgetMs: 10_000, maxRecords: 100, flush: () => relay.commitNow() });
    expect(report).toMatchObject({ outcome: 'deadline', fetched: 0 });
    expect(proxy.calls.filter((c) => c === 'fetch')).toHaveLength(0);
    // Nothing fetched, so nothing to commit either (and never an empty commit).
    expect(proxy.commits).toEqual([]);
  });

  it('stops mid-drain when the source is stopped: nothing unfinished committed, the instance deleted', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 30, batch: 10 });
    let release: (() => void) | undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { relay, source } = setup(proxy, clock, async (r) => {
      const body = JSON.parse(typeof r.body === 'string' ? r.body : dec.decode(r.body as Uint8Array));
      if (body.i === 5) await held; // record 5 is still in flight when the source stops
      return { kind: 'response', status: 200 };
    });
    await relay.start();
    const draining = drainOf(source, relay, 60_000);
    while (!proxy.calls.includes('fetch')) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    const stopping = source.stop();
    const report = await draining;
    release?.();
    await stopping;
    expect(report.outcome).toBe('stopped');
    expect(proxy.committedOffsets.get('t/0') ?? 0n).toBeLessThanOrEqual(5n);
    expect(proxy.calls.at(-1)).toBe('delete');
    // A stopped source drains no more.
    expect((await drainOf(source, relay)).outcome).toBe('stopped');
  });

  it('runs one drain at a time: a second call waits for the first', async () => {
    const clock = fakeClock();
    const proxy = fakeProxy(clock, { partitions: 1, perPartition: 20 });
    const { relay, source } = setup(proxy, clock);
    await relay.start();
    const [a, b] = await Promise.all([drainOf(source, relay), drainOf(source, relay)]);
    expect(a).toMatchObject({ outcome: 'caught-up', handed: 20 });
    expect(b).toMatchObject({ outcome: 'caught-up', handed: 0 });
    expect(proxy.calls.filter((c) => c === 'create')).toHaveLength(2);
  });
});
