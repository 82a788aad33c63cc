// Lua for the dedupe protocol, shared by the Redis store (EVALSHA) and the Upstash store (EVAL).
// KEYS[1] = ferry:dedupe:<sink>:<eventId>, ARGV[1] = pending:<instance>, ARGV[2] = lease ms.

/**
 * Claim: SET NX PX; if the key exists and holds our own pending value (a restart with the same
 * instance id, or a retried request whose first attempt landed), it is ours: extend the lease.
 * Returns 1 claimed, 2 done, 3 pending elsewhere.
 */
export const CLAIM_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v == 'done' then return 2 end
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 3
`;

/** Release only if the claim is still ours. Returns 1 when deleted. */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export function claimResultOf(code: unknown): 'claimed' | 'done' | 'pending-elsewhere' | undefined {
  const n = Number(code);
  return n === 1 ? 'claimed' : n === 2 ? 'done' : n === 3 ? 'pending-elsewhere' : undefined;
}
