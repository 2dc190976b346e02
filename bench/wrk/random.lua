-- GET <head><n><tail> with n uniform in [0, count): 100,000 distinct keys, nothing hot.
-- Usage: wrk -s random.lua <base url> -- <head> <count> [tail]
package.path = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '?.lua;' .. package.path
local report = require('report')
local head, count, tail = '/', 1, ''

function init (args)
  head = args[1] or head
  count = tonumber(args[2] or '1')
  tail = args[3] or ''
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request ()
  return wrk.format('GET', head .. math.random(0, count - 1) .. tail)
end

done = report.done
