--[[ Store Celery results unless a SUCCESS is already stored, then publish each as Celery does: every store of
  one turn of the event loop in one call (redis/store-batch.ts), each key on its own, in order.
  Celery's own guard reads, then writes (racy); here the read and the write are one atomic step.
  A client retrying a store whose answer it never saw (a timeout on the way back) sends the same document
  again: when it equals the stored SUCCESS in everything but date_done, it is told so instead of a conflict.
  That comparison runs only when a SUCCESS is stored (the conflict path): the common store path is unchanged.
  KEYS[i]      result key i (any number: the caller passes the count, hence "-n" in the file name); also its
               pub/sub channel (Celery publishes on the key name). In Cluster all keys of one call share a slot.
  ARGV[2i-1]   key i's encoded meta document, exactly the bytes to store and publish
  ARGV[2i]     key i's ttl in seconds; 0 = no expiry (SET without EX, as Celery does for result_expires=None)
  Returns: two elements per key, in order:
           1, subscribers that received the PUBLISH                 when stored;
           0, 'SUCCESS'                                             when refused (a different SUCCESS is stored);
           2, remaining ttl in seconds (-1 = none)                  when the same SUCCESS is already stored
                                                                    (nothing written);
           -1, Redis's error text                                   when Redis refused a command for this key
                                                                    (the others are stored all the same) ]]

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

-- One key's store: its code and info (see Returns); a command Redis refuses is this key's answer alone.
local function store (key, doc, ttl)
  local current = redis.pcall('GET', key)
  if type(current) == 'table' and current.err then return -1, current.err end
  local stored = current and final(current)
  if stored then
    if retried(stored, doc) then return 2, redis.call('TTL', key) end
    return 0, 'SUCCESS'
  end
  local set
  if ttl > 0 then set = redis.pcall('SET', key, doc, 'EX', ttl) else set = redis.pcall('SET', key, doc) end
  if type(set) == 'table' and set.err then return -1, set.err end
  local published = redis.pcall('PUBLISH', key, doc)
  if type(published) == 'table' and published.err then return -1, published.err end
  return 1, published
end

local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1], out[2 * i] = store(key, ARGV[2 * i - 1], tonumber(ARGV[2 * i]))
end
return out
