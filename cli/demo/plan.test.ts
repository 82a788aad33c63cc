// The demo's mock APIs must be able to report a duplicate application and an order violation on
// the clean events the relay really sends (top-level `id` and `lsn`), or its "0 duplicate
// applications" line proves nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../../test/support/mock-api/index.ts';
import { demoMockEndpoints, SINKS } from './plan.ts';

const event = (id: number, lsn: number) => ({
  eventId: `pg:shipments:${lsn}:${id}`,
  schema: 'ferry.shipments.v1',
  entity: 'shipment',
  op: 'updated',
  id,
  lsn,
  occurredAt: '2026-11-21T04:59:12.345Z',
  data: { id, status: 'booked' },
  previousStatus: 'created',
});

describe('the demo mock APIs', () => {
  let api: MockApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  const post = async (sink: string, body: ReturnType<typeof event>, idempotencyKey: string) => {
    const res = await fetch(`${api!.url}/${sink}/shipments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ferry-event-id': idempotencyKey },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  it('report the same change applied under a second idempotency key as a duplicate application', async () => {
    api = await startMockApi({ endpoints: demoMockEndpoints(), recordBodies: false });
    const sink = SINKS[0]!.id;
    const change = event(1042, 24023184);
    await post(sink, change, change.eventId);
    await post(sink, change, change.eventId); // the same key again: a harmless wire replay
    await post(sink, change, 'a-broken-idempotency-key');
    const report = api.report(sink);
    expect(report.replays).toBe(1);
    expect(report.duplicateApplications).toBe(1);
    expect(report.orderKeys).toBe(1);
  });

  it('report an earlier change of the same row applied after a later one as an order violation', async () => {
    api = await startMockApi({ endpoints: demoMockEndpoints(), recordBodies: false });
    const sink = SINKS[1]!.id;
    const later = event(7, 5000);
    const earlier = event(7, 4000);
    await post(sink, later, later.eventId);
    await post(sink, earlier, earlier.eventId);
    const report = api.report(sink);
    expect(report.orderViolations).toBe(1);
    expect(report.orderViolationSamples).toEqual([{ key: '7', after: 5000, got: 4000 }]);
  });

  it('configure every sink of the demo', () => {
    expect(demoMockEndpoints().map((e) => e.name)).toEqual(SINKS.map((s) => s.id));
  });
});
