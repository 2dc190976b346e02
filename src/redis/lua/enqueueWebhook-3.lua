--[[ Enqueue one webhook delivery unless it was enqueued before: the claim and the XADD are one atomic step, so
  several replicas seeing the same PUBLISH enqueue it once, and a replica dying between them loses nothing.
  KEYS[1] claim key (one per subscription, task and state)   KEYS[2] delivery stream   KEYS[3] counters hash
  ARGV[1] claim TTL in seconds (> 0)   ARGV[2] counters field to increment ('' = none: a per-task webhook)
  ARGV[3..] the entry's field/value pairs
  Returns: the new entry id, or false when the delivery was already claimed ]]
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then
  return false
end
if ARGV[2] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
