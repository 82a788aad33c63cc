// The chaos suite's accounting must be able to fail: a change with no outcome is LOST, a change
// applied under a second idempotency key is a DUPLICATE APPLICATION, and every other change lands in
// exactly one column.
import { describe, expect, it } from 'vitest';
import { accountSink, type SinkInput } from '../chaos/accounting.ts';
import { parseChaosArgs, SHORT } from '../chaos/options.ts';
import { planSchedule } from '../chaos/schedule.ts';
import type { TopicRecord } from '../support/kafka.ts';
import { Ledger } from '../support/mock-api/index.ts';

let offset = 0n;
const record = (
  topic: string,
  value: string | undefined,
  headers: Record<string, string> = {},
): TopicRecord => ({
  topic,
  partition: 0,
  offset: offset++,
  timestamp: 0n,
  key: undefined,
  value,
  headers: new Map(Object.entries(headers)),
});
const envelope = (id: number, lsn: number, op = 'u') =>
  JSON.stringify({ before: null, after: { id }, op, source: { lsn, table: 'trailers' } });
const eventId = (id: number, lsn: number) => `pg:trailers:${lsn}:${id}`;
const clean = (id: number, lsn: number, op = 'updated') =>
  record('clean.trailers', JSON.stringify({ eventId: eventId(id, lsn), id, lsn, op }), {
    'ferry-event-id': eventId(id, lsn),
  });

function input(overrides: Partial<SinkInput> = {}): SinkInput {
  return {
    sink: 'yard',
    generated: 5,
    missingAtCdc: 0,
    cdc: [1, 2, 3, 4, 5].map((id) => record('cdc.public.trailers', envelope(id, 100 + id))),
    // 1 delivered (twice on the clean topic), 2 filtered (a delete), 3 bad row, 4 dead-lettered by the relay,
    // 5 delivered
    clean: [clean(1, 101), clean(1, 101), clean(2, 102, 'deleted'), clean(4, 104), clean(5, 105)],
    dlqTransform: [record('dlq.transform', envelope(3, 103))],
    dlqRelay: [record('dlq.relay', '{}', { 'ferry-event-id': eventId(4, 104), 'ferry-error-sink': 'yard' })],
    applied: [eventId(1, 101), eventId(5, 105)],
    report: new Ledger('yard').report(),
    passes: (e) => e.op !== 'deleted',
    ...overrides,
  };
}

describe('chaos accounting', () => {
  it('puts every change in exactly one column', () => {
    const row = accountSink(input());
    expect(row).toMatchObject({
      delivered: 2,
      deduplicated: 1,
      filtered: 1,
      deadLetteredTransform: 1,
      deadLetteredRelay: 1,
      lost: 0,
      duplicateApplications: 0,
    });
  });

  it('reports a change that was never applied nor dead-lettered as lost', () => {
    const row = accountSink(input({ applied: [eventId(1, 101)] }));
    expect(row.lost).toBe(1);
    expect(row.lostSamples).toEqual([eventId(5, 105)]);
  });

  it('counts changes that never reached the cdc topic as lost', () => {
    expect(accountSink(input({ missingAtCdc: 2 })).lost).toBe(2);
  });

  it('reports a duplicate application seen by the API', () => {
    const ledger = new Ledger('yard', { order: { keyField: 'id', seqField: 'lsn' } });
    const body = JSON.stringify({ id: 5, lsn: 105 });
    ledger.record('POST', '/yard', { 'ferry-event-id': eventId(5, 105) }, body, 200);
    ledger.record('POST', '/yard', { 'ferry-event-id': 'another-key' }, body, 200);
    const row = accountSink(input({ report: ledger.report() }));
    expect(row.duplicateApplications).toBe(1);
  });
});

describe('chaos options and schedule', () => {
  it('refuse bad input with a clear message', () => {
    expect(() => parseChaosArgs(['--rate', 'fast'])).toThrow(/--rate must be a number/);
    expect(() => parseChaosArgs(['--kill-every', '10-5'])).toThrow(/--kill-every must be like 5-10/);
    expect(() => parseChaosArgs(['--bogus'])).toThrow(/bogus/);
    expect(parseChaosArgs(['--help'])).toBe('help');
  });

  it('repeat the same schedule for the same seed', () => {
    const options = parseChaosArgs(['--short', '--seed', '7']);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.count).toBe(SHORT.count);
    const plan = () => planSchedule({ ...options, durationMs: 60_000 });
    expect(plan()).toEqual(plan());
    expect(plan().restarts.map((r) => r.service)).toEqual(['redis', 'kafka', 'connect']);
    expect(plan().kills.length).toBeGreaterThanOrEqual(3);
  });
});
