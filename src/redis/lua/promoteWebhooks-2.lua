--[[ Move retries that are due back onto the delivery stream (any replica may run it; each due retry moves once).
  KEYS[1] retry sorted set   KEYS[2] delivery stream
  ARGV[1] now, ms   ARGV[2] most entries to move
  Returns: the number of entries moved ]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local ok, entry = pcall(cjson.decode, member)
  if ok and type(entry) == 'table' then
    local fields = {}
    for k, v in pairs(entry) do
      fields[#fields + 1] = k
      fields[#fields + 1] = tostring(v)
    end
    redis.call('XADD', KEYS[2], '*', unpack(fields))
  end
  redis.call('ZREM', KEYS[1], member)
end
return #due
