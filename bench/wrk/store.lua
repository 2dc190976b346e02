-- PUT <head><thread>-<counter> with the JSON body in the file named by the second argument: every store a
-- new task id. Usage: wrk -s store.lua <base url> -- <head> <body file>
package.path = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '?.lua;' .. package.path
local report = require('report')
local head, body, n = '/', '', 0
local tag = tostring(math.random(1, 1e9))

function init (args)
  head = args[1] or head
  local f = assert(io.open(args[2], 'rb'))
  body = f:read('*a')
  f:close()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  tag = tostring(math.random(1, 1e9))
end

function request ()
  n = n + 1
  return wrk.format('PUT', head .. tag .. '-' .. n, { ['Content-Type'] = 'application/json' }, body)
end

done = report.done
