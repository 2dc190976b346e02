--[[ Read result keys for the fetch routes: each key's stored bytes and remaining time to live, for many
  concurrent requests in one call (redis/read-batch.ts), where a GET and a TTL per request would be two
  commands each. Read only; in Cluster every key of one call is in the same slot.
  KEYS  the result keys (any number: the caller passes the count, hence "-n" in the file name)
  ARGV  none
  Returns: two elements per key, in order: the value (nil when the key does not exist, or Redis refused its
           GET), then its PTTL in ms (-2: no key, -1: no expiry, -3: the key holds a list, hash, set, …
           rather than a string: the GET was refused with WRONGTYPE), or Redis's error text when it refused
           the GET for another reason (NOPERM: the ACL user may not read that key). One key's refusal is
           that key's answer, not the whole call's. ]]

local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.pcall('GET', key)
  if type(value) == 'table' and value.err then
    out[2 * i - 1] = false
    if string.sub(value.err, 1, 9) == 'WRONGTYPE' then out[2 * i] = -3 else out[2 * i] = value.err end
  else
    out[2 * i - 1] = value
    out[2 * i] = redis.call('PTTL', key)
  end
end
return out
