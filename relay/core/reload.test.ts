import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, type ScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import type { SinkRequest, SinkResponse } from './contracts.ts';
import { createRelay, type Relay } from './relay.ts';
import { planReload } from './reload.ts';

const dec = new TextDecoder();
const bodyOf = (r: SinkRequest) =>
  JSON.parse(typeof r.body === 'string' ? r.body : dec.decode(r.body as Uint8Array)) as {
    id: number;
    key: string;
    seq: number;
  };
const ok: SinkResponse = { kind: 'response', status: 200 };
const ordersTo = (...sinks: Record<string, unknown>[]) => ({ routes: [{ topics: 'orders', sinks }] });
const records = (from: number, n: number, keys: number) =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      key: text(`k${i % keys}`),
      value: json({ id: i, key: `k${i % keys}`, seq: Math.floor(i / keys) }),
    };
  });

/** A sender whose answers wait until `open()`: deliveries stay in flight while a test reloads. */
function gatedSender(): ScriptedSender & { open(): void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const sender = createScriptedSender(async () => {
    await gate;
    return ok;
  });
  return Object.assign(sender, { open: () => release() });
}

const running: Relay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

function setup(document: Record<string, unknown>, senders: Record<string, ScriptedSender>) {
  const config = testConfig(document);
  const source = createMemorySource({ batchSize: 10 });
  const relay = createRelay({
    config: config.relay,
    source,
    senders: (sink) => senders[sink.id]!,
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq: createMemoryDlq(),
    metrics: createRegistry(),
    instanceId: 'i1',
  });
  running.push(relay);
  return { relay, source };
}

const ids = (s: ScriptedSender) => s.requests.map((r) => bodyOf(r).id);

describe('planReload', () => {
  const base = testConfig(ordersTo(testSink('a'), testSink('b'))).relay;
  const subscribed = new Set(['orders']);
  const stores = { memory: createMemoryDedupeStore({ instanceId: 'p' }) };

  it('sorts sinks into added, removed, changed and unchanged by id and whole options', () => {
    const next = testConfig(
      ordersTo(testSink('a'), testSink('b', { headers: { 'x-v': '2' } }), testSink('c')),
    ).relay;
    const plan = planReload({ current: base, next, subscribed, stores });
    expect(plan.ok && plan.summary).toEqual({ added: ['c'], removed: [], changed: ['b'], unchanged: ['a'] });
    const fewer = planReload({
      current: base,
      next: testConfig(ordersTo(testSink('b'))).relay,
      subscribed,
      stores,
    });
    expect(fewer.ok && fewer.summary).toEqual({ added: [], removed: ['a'], changed: [], unchanged: ['b'] });
  });

  it('refuses what only a restart can give: a new topic, a dedupe store not open, relay-wide timings', () => {
    const next = testConfig({
      commitInterval: '1s',
      routes: [
        { topics: ['orders', 'invoices'], sinks: [testSink('a')] },
        { topics: 'orders', sinks: [testSink('r', { dedupe: { store: 'redis' } })] },
      ],
    }).relay;
    const plan = planReload({ current: base, next, subscribed, stores });
    expect(plan.ok).toBe(false);
    const errors = plan.ok ? [] : plan.errors.join('\n');
    expect(errors).toContain('invoices is not among the topics the relay consumes');
    expect(errors).toContain('dedupe store redis is not open');
    expect(errors).toContain('relay.commitIntervalMs: cannot change while running');
  });
});

describe('relay.reload', () => {
  it('keeps unchanged lanes untouched, lets a removed sink finish what it holds, and feeds an added one', async () => {
    const senders = {
      a: createScriptedSender(() => ok),
      b: gatedSender(),
      c: createScriptedSender(() => ok),
    };
    const { relay, source } = setup(ordersTo(testSink('a'), testSink('b')), senders);
    source.produce('orders', 0, records(0, 40, 10));
    await relay.start();
    await waitUntil(
      () => senders.a.requests.length === 40 && senders.b.requests.length > 0,
      10_000,
      'a done, b busy',
    );

    const next = testConfig(ordersTo(testSink('a'), testSink('c'))).relay;
    const result = relay.reload(next);
    expect(result).toEqual({
      ok: true,
      summary: { added: ['c'], removed: ['b'], changed: [], unchanged: ['a'] },
    });
    expect(relay.sinkIds()).toEqual(['a', 'c']);

    source.produce('orders', 0, records(40, 40, 10));
    // Nothing is committed past b's held records until they are terminal.
    await waitUntil(() => senders.c.requests.length === 40, 10_000, 'c gets the new records');
    expect(source.committed.get('orders/0') ?? 0n).toBeLessThan(80n);
    senders.b.open();
    await waitUntil(() => source.committed.get('orders/0') === 80n, 10_000, 'commit of all 80');

    // a: every record once (its lane was not rebuilt, nothing re-sent); b: all it held before the
    // reload and nothing after; c: only what came after.
    expect(ids(senders.a).sort((x, y) => x - y)).toEqual([...Array(80).keys()]);
    expect(ids(senders.b).sort((x, y) => x - y)).toEqual([...Array(40).keys()]);
    expect(ids(senders.c).sort((x, y) => x - y)).toEqual([...Array(40).keys()].map((i) => i + 40));
  });

  it("starts a changed sink's new lane only after the old one finished, so per-key order holds", async () => {
    const v1 = gatedSender();
    let sent = 0;
    const senders: Record<string, ScriptedSender> = { a: v1 };
    const { relay, source } = setup(ordersTo(testSink('a', { headers: { 'x-version': '1' } })), senders);
    source.produce('orders', 0, records(0, 20, 5));
    await relay.start();
    await waitUntil(() => v1.requests.length === 5, 10_000, 'one in flight per key');

    const v2 = createScriptedSender(() => ok);
    senders.a = v2;
    const result = relay.reload(testConfig(ordersTo(testSink('a', { headers: { 'x-version': '2' } }))).relay);
    expect(result.ok && result.summary.changed).toEqual(['a']);
    source.produce('orders', 0, records(20, 20, 5));
    // The new lane holds its records while the old one is busy.
    await waitUntil(() => relay.state().sinks[0]!.buffered === 20, 10_000, 'new lane buffering');
    expect(v2.requests).toHaveLength(0);
    v1.open();
    await waitUntil(() => source.committed.get('orders/0') === 40n, 10_000, 'commit of all 40');
    sent = v1.requests.length + v2.requests.length;
    expect(sent).toBe(40);
    expect(v1.requests.every((r) => r.headers['x-version'] === '1')).toBe(true);
    expect(v2.requests.every((r) => r.headers['x-version'] === '2')).toBe(true);
    // Per key, sequences increase across both lanes (old lane's first).
    const lastSeq = new Map<string, number>();
    for (const r of [...v1.requests, ...v2.requests]) {
      const b = bodyOf(r);
      expect(b.seq, `key ${b.key}`).toBe((lastSeq.get(b.key) ?? -1) + 1);
      lastSeq.set(b.key, b.seq);
    }
    expect(ids(v1).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });

  it('a refused reload changes nothing', async () => {
    const senders = { a: createScriptedSender(() => ok) };
    const { relay, source } = setup(ordersTo(testSink('a')), senders);
    await relay.start();
    const result = relay.reload(
      testConfig({ routes: [{ topics: 'invoices', sinks: [testSink('a'), testSink('z')] }] }).relay,
    );
    expect(result.ok).toBe(false);
    expect(relay.sinkIds()).toEqual(['a']);
    source.produce('orders', 0, records(0, 10, 2));
    await waitUntil(() => source.committed.get('orders/0') === 10n, 10_000, 'commit of 10');
    expect(senders.a.requests).toHaveLength(10);
  });

  it('keeps an operator pause across a change, and releases both lanes on resume', async () => {
    const senders: Record<string, ScriptedSender> = { a: createScriptedSender(() => ok) };
    const { relay, source } = setup(ordersTo(testSink('a')), senders);
    await relay.start();
    expect(relay.pauseSink('a')).toBe(true);
    source.produce('orders', 0, records(0, 10, 2));
    await waitUntil(() => relay.state().sinks[0]!.buffered === 10, 10_000, 'held by the pause');
    const b = createScriptedSender(() => ok);
    senders.a = b;
    expect(relay.reload(testConfig(ordersTo(testSink('a', { headers: { 'x-v': '2' } }))).relay).ok).toBe(
      true,
    );
    source.produce('orders', 0, records(10, 10, 2));
    await waitUntil(() => relay.state().sinks[0]!.buffered === 10, 10_000, 'new lane holding');
    expect(relay.state().sinks[0]!.mode).toBe('paused');
    relay.resumeSink('a');
    await waitUntil(() => source.committed.get('orders/0') === 20n, 10_000, 'commit of 20');
  });
});
