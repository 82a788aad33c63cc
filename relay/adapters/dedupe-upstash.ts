// DedupeStore on Upstash Redis over HTTP (@upstash/redis), for edge runtimes. Handles the caveats
// in docs/upstash.md:
// - A retried request can re-run a SET NX whose first attempt landed but whose reply was lost: the
//   retry answers null and a fresh claim would look taken. So a null is never taken at face value:
//   the value is read back and `pending:<this instance>` counts as claimed (which also makes claims
//   re-entrant across a restart with the same instance id).
// - Auto-pipelining is on on purpose: every claim issued in the same tick travels in one
//   POST /pipeline. Results are read raw (automaticDeserialization off: "done" stays a string).
// - Client errors quote the whole command, keys and values included: they are never logged or
//   passed on; callers get FERRY_DEDUPE_UNAVAILABLE with the error class only.
// - Retries are bounded and short, so an unreachable store turns into the sink's onUnavailable
//   within about a second instead of the client's default ~4 s.
import { Redis } from '@upstash/redis';
import type { ClaimResult, DedupeStore } from '../core/contracts.ts';
import { DONE, dedupeKey, describeFailure, pendingValue, storeUnavailable } from './dedupe-keys.ts';
import { RELEASE_LUA } from './dedupe-scripts.ts';

export interface UpstashDedupeOptions {
  readonly instanceId: string;
  readonly url: string;
  readonly token: string;
  readonly prefix?: string;
  /** Retries of a request whose fetch threw (HTTP errors are never retried by the client). */
  readonly retries?: number;
  readonly backoffMs?: (retryCount: number) => number;
  /** Passed through for tests or runtimes with their own fetch. */
  readonly redis?: Redis;
}

export function createUpstashDedupeStore({
  instanceId,
  url,
  token,
  prefix = 'ferry:dedupe:',
  retries = 3,
  backoffMs = (n) => Math.min(50 * 2 ** n, 400),
  redis: given,
}: UpstashDedupeOptions): DedupeStore {
  const redis =
    given ??
    new Redis({
      url,
      token,
      automaticDeserialization: false,
      enableAutoPipelining: true,
      enableTelemetry: false,
      retry: { retries, backoff: backoffMs },
    });
  const pending = pendingValue(instanceId);

  const guard = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      // Never the client's message: it contains the command with its keys and values.
      throw storeUnavailable('upstash', `${what}: ${describeFailure(err)}`);
    }
  };

  return {
    claim(sink, eventId, leaseMs): Promise<ClaimResult> {
      const key = dedupeKey(prefix, sink, eventId);
      return guard('claim', async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const set = await redis.set(key, pending, { nx: true, px: leaseMs });
          if (set === 'OK') return 'claimed';
          const current = await redis.get<string>(key);
          if (current === pending) {
            // Ours: a retried SET NX whose first attempt landed, or our own claim from before.
            await redis.pexpire(key, leaseMs);
            return 'claimed';
          }
          if (current === DONE) return 'done';
          if (current !== null) return 'pending-elsewhere';
          // Expired between SET and GET: try again.
        }
        return 'pending-elsewhere';
      });
    },
    async markDone(sink, eventId, ttlMs) {
      const key = dedupeKey(prefix, sink, eventId);
      await guard('markDone', () => redis.set(key, DONE, { px: ttlMs }));
    },
    async release(sink, eventId) {
      const key = dedupeKey(prefix, sink, eventId);
      await guard('release', () => redis.eval(RELEASE_LUA, [key], [pending]));
    },
    async ping() {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {},
  };
}
