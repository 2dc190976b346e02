--[[ Store a Celery result unless a SUCCESS is already stored, then publish it as Celery does.
  Celery's own guard reads, then writes (racy); here the read and the write are one atomic step.
  A client retrying a store whose answer it never saw (a timeout on the way back) sends the same document
  again: when it equals the stored SUCCESS in everything but date_done, it is told so instead of a conflict.
  That comparison runs only when a SUCCESS is stored (the conflict path): the common store path is unchanged.
  KEYS[1] result key; also the pub/sub channel (Celery publishes on the key name)
  ARGV[1] encoded meta document, exactly the bytes to store and publish
  ARGV[2] ttl in seconds; 0 = no expiry (SET without EX, as Celery does for result_expires=None)
  Returns: { 1, subscribers that received the PUBLISH } when stored;
           { 0, 'SUCCESS' } when refused (a different SUCCESS is stored);
           { 2, remaining ttl in seconds (-1 = none) } when the same SUCCESS is already stored (nothing written) ]]

local function decode (doc)
  if string.byte(doc, 1) == 123 then return pcall(cjson.decode, doc) end
  return pcall(cmsgpack.unpack, doc)
end

-- The stored document when its status is SUCCESS, as a JSON or msgpack reader sees it; else nil.
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
      return nil
    end
  end
  local ok, decoded = decode(doc)
  if ok and type(decoded) == 'table' and decoded['status'] == 'SUCCESS' then return decoded end
  return nil
end

-- Deep equality of two decoded values; JSON null and a msgpack nil (an absent key) are the same.
local function same (a, b)
  if a == cjson.null then a = nil end
  if b == cjson.null then b = nil end
  if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k, v in pairs(b) do
    if a[k] == nil and v ~= cjson.null then return false end
  end
  return true
end

-- Every field the new document gives, but date_done, equals the stored one's.
local function retried (stored, doc)
  local ok, new = decode(doc)
  if not ok or type(new) ~= 'table' then return false end
  for k, v in pairs(new) do
    if k ~= 'date_done' and not same(v, stored[k]) then return false end
  end
  return true
end

local current = redis.call('GET', KEYS[1])
local stored = current and final(current)
if stored then
  if retried(stored, ARGV[1]) then return { 2, redis.call('TTL', KEYS[1]) } end
  return { 0, 'SUCCESS' }
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return { 1, redis.call('PUBLISH', KEYS[1], ARGV[1]) }
