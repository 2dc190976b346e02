--[[ Record a per-task webhook's delivery status, only while the registration is the one the delivery was for
  (a DELETE or a replacing PUT in between wins; an expired registration is not recreated).
  KEYS[1] registration hash
  ARGV[1] registration id it must still hold   ARGV[2] status it must still have ('' = any)
  ARGV[3..] field/value pairs to set
  Returns: 1 when recorded, 0 when the registration is gone, was replaced or moved on ]]
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then
  return 0
end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1
