// Records whose values would change a templated request path (`..`, `.`, a `/`) are dead-lettered with
// their own codes while their neighbours on the same key are delivered to the right paths; a value too
// deep to project is dead-lettered as FERRY_VALUE_TOO_DEEP (it used to overflow the stack and be
// labelled a URL template error). Real Kafka and Redis; the mock API records the paths it receives.
import { randomUUID } from 'node:crypto';
import { Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { lagIsZero, startTestRelay, topicRelayDocument } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

describe('relay URL templates', () => {
  const bed = useRelayTestbed();

  it('dead-letters values that would change the path; the neighbours go to the right paths', async () => {
    const topic = await bed.topic('relay-url-template', 1);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['tpl', 'proj'] });
    const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    // One key, so every record waits for the one before it: a refused record must not hold up the next.
    const values = [
      { id: 'a1', doc: 1 }, // 0
      { id: '..', doc: 2 }, // 1
      { id: 'a2', doc: 3 }, // 2
      { id: '.', doc: 4 }, // 3
      { id: 'x/../y', doc: 5 }, // 4
      { id: '', doc: 6 }, // 5
      { id: 'a 3?', doc: 7 }, // 6
    ].map((v) => JSON.stringify({ ...v, run }));
    values.push(`{"id":"a4","run":"${run}","doc":${deep}}`); // 7
    const raw = new Producer({
      clientId: 'ferry-test-url-template',
      bootstrapBrokers: [KAFKA_BOOTSTRAP],
      idempotent: true,
      acks: -1,
    });
    await raw.send({
      messages: values.map((v) => ({ topic, key: Buffer.from('k'), value: Buffer.from(v) })),
    });
    await raw.close();

    const tplSink = `tpl-${run}`;
    const projSink = `proj-${run}`;
    const relay = await startTestRelay(
      topicRelayDocument(topic, [
        { id: tplSink, url: `${api.url}/tpl/items/{id}/sub?q={run}`, dedupe: { store: 'redis' } },
        {
          id: projSink,
          url: `${api.url}/proj`,
          body: { project: { id: 'id', doc: 'doc' } },
          dedupe: { store: 'redis' },
        },
      ]),
      `rurl-${run}`,
    );
    try {
      await waitUntil(() => lagIsZero(relay.runtime, topic, 1), {
        timeoutMs: 60_000,
        message: 'committed past the refused records',
      });
      expect(api.ledger('tpl').requests.map((r) => r.path)).toEqual([
        `/tpl/items/a1/sub?q=${run}`,
        `/tpl/items/a2/sub?q=${run}`,
        `/tpl/items/a%203%3F/sub?q=${run}`,
        `/tpl/items/a4/sub?q=${run}`,
      ]);
      // Nothing reached any other path of the mock (a normalised `..` would land on /tpl/sub).
      expect(api.reports().map((r) => [r.endpoint, r.received])).toEqual([
        ['tpl', 4],
        ['proj', 7],
      ]);

      const dead = (
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => rs.filter((r) => r.headers.get('ferry-error-source-topic') === topic).length >= 5,
        })
      ).filter((r) => r.headers.get('ferry-error-source-topic') === topic);
      const byOffset = Object.fromEntries(
        dead.map((r) => [
          r.headers.get('ferry-error-source-offset'),
          `${r.headers.get('ferry-error-sink')} ${r.headers.get('ferry-error-code')}`,
        ]),
      );
      expect(byOffset).toEqual({
        '1': `${tplSink} FERRY_URL_DOT_SEGMENT`,
        '3': `${tplSink} FERRY_URL_DOT_SEGMENT`,
        '4': `${tplSink} FERRY_URL_UNSAFE_VALUE`,
        '5': `${tplSink} FERRY_URL_UNSAFE_VALUE`,
        '7': `${projSink} FERRY_VALUE_TOO_DEEP`,
      });
      const m = relay.runtime.metrics;
      expect(m.value('ferry_records_delivered_total', { sink: tplSink })).toBe(4);
      expect(m.value('ferry_records_delivered_total', { sink: projSink })).toBe(7);
    } finally {
      await relay.stop();
    }
  });
});
