--[[ A delivery is over (delivered, failed, cancelled or dropped): acknowledge and delete its stream entry and
  count it, in one atomic step.
  KEYS[1] delivery stream   KEYS[2] counters hash
  ARGV[1] consumer group   ARGV[2] stream entry id
  ARGV[3] counters field to increment ('' = none)   ARGV[4] counters field to decrement ('' = none)
  Returns: 1 when the entry was still pending, 0 when a consumer that took it over finished it (nothing counted) ]]
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[4], -1) end
return 1
