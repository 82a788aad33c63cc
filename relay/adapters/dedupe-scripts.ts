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

/**
 * Batched forms for the Redis store: one EVALSHA carries every claim (or done mark, or release)
 * issued in the same tick, so the client and Redis each handle one command per batch instead of one
 * per record. Single Redis only (keys may hash to different cluster slots).
 * CLAIM_MANY: ARGV[1] = pending:<instance>, ARGV[i+1] = lease ms of KEYS[i]; returns codes as CLAIM_LUA.
 */
export const CLAIM_MANY_LUA = `
local out = {}
for i, key in ipairs(KEYS) do
  local lease = ARGV[i + 1]
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', lease) then
    out[i] = 1
  else
    local v = redis.call('GET', key)
    if v == ARGV[1] then
      redis.call('PEXPIRE', key, lease)
      out[i] = 1
    elseif v == 'done' then
      out[i] = 2
    elseif v == false then
      redis.call('SET', key, ARGV[1], 'PX', lease)
      out[i] = 1
    else
      out[i] = 3
    end
  end
end
return out
`;

/** DONE_MANY: ARGV[i] = retention TTL ms of KEYS[i]. */
export const DONE_MANY_LUA = `
for i, key in ipairs(KEYS) do redis.call('SET', key, 'done', 'PX', ARGV[i]) end
return #KEYS
`;

/** RELEASE_MANY: ARGV[1] = pending:<instance>; deletes each key only if it still holds it. */
export const RELEASE_MANY_LUA = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
`;
