-- Shared by the bench's wrk scripts: done() prints one JSON line the bench reads (bench/wrk.ts).
-- Latencies in microseconds; "status" counts answers that were not 2xx/3xx (the 404 poll's are all 404).
local M = {}
function M.done (summary, latency, _requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
return M
