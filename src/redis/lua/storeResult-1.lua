--[[ Store a Celery result unless a SUCCESS is already stored, then publish it as Celery does.
  Celery's own guard reads, then writes (racy); here the read and the write are one atomic step.
  KEYS[1] result key; also the pub/sub channel (Celery publishes on the key name)
  ARGV[1] encoded meta document, exactly the bytes to store and publish
  ARGV[2] ttl in seconds; 0 = no expiry (SET without EX, as Celery does for result_expires=None)
  Returns: { 1, subscribers that received the PUBLISH } when stored; { 0, 'SUCCESS' } when refused ]]
local current = redis.call('GET', KEYS[1])
if current then
  local ok, doc
  if string.byte(current, 1) == 123 then
    ok, doc = pcall(cjson.decode, current)
  else
    ok, doc = pcall(cmsgpack.unpack, current)
  end
  if ok and type(doc) == 'table' and doc['status'] == 'SUCCESS' then
    return { 0, 'SUCCESS' }
  end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return { 1, redis.call('PUBLISH', KEYS[1], ARGV[1]) }
