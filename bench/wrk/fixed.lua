-- One URL, the same request every time (the hot key, the 404 poll). Usage: wrk -s fixed.lua <url>
package.path = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '?.lua;' .. package.path
local report = require('report')
done = report.done
