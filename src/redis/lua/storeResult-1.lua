--[[ Store a Celery result unless a SUCCESS is already stored, then publish it as Celery does.
  Celery's own guard reads, then writes (racy); here the read and the write are one atomic step.
  KEYS[1] result key; also the pub/sub channel (Celery publishes on the key name)
  ARGV[1] encoded meta document, exactly the bytes to store and publish
  ARGV[2] ttl in seconds; 0 = no expiry (SET without EX, as Celery does for result_expires=None)
  Returns: { 1, subscribers that received the PUBLISH } when stored; { 0, 'SUCCESS' } when refused ]]

-- True when the stored document's status is SUCCESS, as a JSON or msgpack reader sees it.
local function final (doc)
  if string.byte(doc, 1) == 123 then
    -- Most writes replace a document that is not final (STARTED, PROGRESS, RETRY...), and decoding a whole 4 KB
    -- document in Lua costs Redis ~55 us. Celery writes status as the first key: when it is the only "status"
    -- key (no other occurrence, no \u escape that could spell one), the first is the one every reader sees,
    -- and a state other than SUCCESS settles it. SUCCESS is confirmed by decoding, so a broken document that
    -- merely starts like a SUCCESS is overwritten, as before.
    local _, stop, state = string.find(doc, '^{%s*"status"%s*:%s*"([%w_%-]*)"')
    if state ~= nil and state ~= 'SUCCESS' and not string.find(doc, '"status"', stop + 1, true)
        and not string.find(doc, '\\u', 1, true) then
      return false
    end
    local ok, decoded = pcall(cjson.decode, doc)
    return ok and type(decoded) == 'table' and decoded['status'] == 'SUCCESS'
  end
  local ok, decoded = pcall(cmsgpack.unpack, doc)
  return ok and type(decoded) == 'table' and decoded['status'] == 'SUCCESS'
end

local current = redis.call('GET', KEYS[1])
if current and final(current) then
  return { 0, 'SUCCESS' }
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return { 1, redis.call('PUBLISH', KEYS[1], ARGV[1]) }
