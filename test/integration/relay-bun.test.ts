// The integration smoke under Bun: relay/entry/bun.ts (fetch senders, Bun.serve) with the project's
// Bun, real Kafka and Redis, a few hundred records delivered end to end, then a graceful SIGTERM.
import { expect, it } from 'vitest';
import { runRelaySmoke } from '../support/relay-runtime-smoke.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';

const bed = useRelayTestbed({ api: { recordBodies: true } });

it('delivers a few hundred records end to end under Bun', async () => {
  const { relay, exitCode } = await runRelaySmoke(bed, {
    runtime: 'bun',
    // A templated path, and Redis dedupe with the config's defaults but the lease.
    sink: (api, id) => ({ url: `${api.url}/${id}/{key}`, dedupe: { store: 'redis', lease: '10s' } }),
  });
  expect(exitCode).toBe(0);
  expect(relay.events()).toContain('stopped');
});
