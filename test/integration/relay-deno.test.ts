// The integration smoke under Deno: relay/entry/deno.ts (fetch senders, Deno.serve) run with the
// project's Deno, real Kafka and Redis, a few hundred records delivered end to end.
import { expect, it } from 'vitest';
import { runRelaySmoke } from '../support/relay-runtime-smoke.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';

const bed = useRelayTestbed({ api: { recordBodies: true } });

it('delivers a few hundred records end to end under Deno', async () => {
  const { exitCode } = await runRelaySmoke(bed, {
    runtime: 'deno',
    startTimeoutMs: 90_000,
    check: (api, sinkId, run) => {
      const first = api.ledger(sinkId).requests[0]!;
      expect(first.method).toBe('POST');
      expect(JSON.parse(first.body!)).toMatchObject({ run });
    },
  });
  expect(exitCode).toBe(0);
});
