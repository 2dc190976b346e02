--[[ Move an attempted delivery from the stream to the retry set, due at a later time: acknowledged, deleted and
  scheduled in one atomic step, so it is neither lost nor both pending and scheduled.
  KEYS[1] delivery stream   KEYS[2] retry sorted set (score: due time, ms)
  ARGV[1] consumer group   ARGV[2] stream entry id   ARGV[3] due time in ms   ARGV[4] the entry as a JSON object
  Returns: 1 when scheduled, 0 when the entry was no longer pending (a consumer that took it over finished it) ]]
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[4])
return 1
