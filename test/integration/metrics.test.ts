import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const json = { 'content-type': 'application/json' }

/** Parses the Prometheus text format into { name → type } and { series → value }. */
function parse (text: string) {
  const types = new Map<string, string>()
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1] ?? '', type[2] ?? '')
    else if (line !== '' && !line.startsWith('#')) {
      const i = line.lastIndexOf(' ')
      values.set(line.slice(0, i), Number(line.slice(i + 1)))
    }
  }
  return { types, values }
}

t.test('/metrics: names, types, and values that move', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const scrape = async () => {
    const res = await app.inject('/metrics')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
    return { text: res.body, ...parse(res.body) }
  }
  const before = await scrape()
  const expected: Record<string, string> = {
    result_gateway_http_requests_total: 'counter',
    result_gateway_http_request_duration_seconds: 'histogram',
    result_gateway_redis_command_duration_seconds: 'histogram',
    result_gateway_redis_command_errors_total: 'counter',
    result_gateway_redis_connection_up: 'gauge',
    result_gateway_waiters: 'gauge',
    result_gateway_pubsub_subscriptions: 'gauge',
    result_gateway_wait_outcomes_total: 'counter',
    result_gateway_wake_latency_seconds: 'histogram',
    result_gateway_results_fetched_total: 'counter',
    result_gateway_results_stored_total: 'counter',
    result_gateway_store_refusals_total: 'counter',
    result_gateway_payload_bytes: 'histogram',
    result_gateway_decode_errors_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    nodejs_eventloop_lag_seconds: 'gauge'
  }
  for (const [name, type] of Object.entries(expected)) t.equal(before.types.get(name), type, name)

  const id = 'metrics-task-4f1c'
  await app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'PROGRESS', result: { n: 1 } } })
  await app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'SUCCESS', result: 1 } })
  await app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'SUCCESS', result: 2 } })
  await app.inject(`/v1/results/${id}`)
  await app.inject('/v1/results/missing-one')
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  await redis.set(`${app.settings.redis.keyPrefix}celery-task-meta-pk`, Buffer.from('8004', 'hex'))
  await app.inject('/v1/results/pk')
  const waiting = app.inject('/v1/results/woken/wait?timeoutSeconds=10')
  // Publish only once the gateway is subscribed, so the answer comes from the wake-up, not the first read.
  const channel = `${app.settings.redis.keyPrefix}celery-task-meta-woken`
  while ((await redis.pubsub('NUMSUB', channel) as [string, number])[1] === 0) await new Promise(resolve => setTimeout(resolve, 5))
  const mid = await scrape()
  t.equal(mid.values.get('result_gateway_waiters'), 1)
  t.equal(mid.values.get('result_gateway_pubsub_subscriptions'), 1)
  await app.inject({ method: 'PUT', url: '/v1/results/woken', headers: json, payload: { state: 'SUCCESS', result: 3 } })
  await waiting
  await app.inject('/v1/results/timeout/wait?timeoutSeconds=0')

  const after = await scrape()
  const v = (series: string) => after.values.get(series) ?? 0
  t.equal(v('result_gateway_results_stored_total{state="CUSTOM"}'), 1, 'PROGRESS folded into CUSTOM')
  t.equal(v('result_gateway_results_stored_total{state="SUCCESS"}'), 2)
  t.equal(v('result_gateway_store_refusals_total'), 1)
  t.ok(v('result_gateway_results_fetched_total{state="SUCCESS"}') >= 2)
  t.equal(v('result_gateway_decode_errors_total{serializer="pickle"}'), 1)
  t.equal(v('result_gateway_wait_outcomes_total{outcome="ready"}'), 1)
  t.equal(v('result_gateway_wait_outcomes_total{outcome="timeout"}'), 1)
  t.equal(v('result_gateway_wake_latency_seconds_count'), 1)
  // `code` is the exact status; sum a class the way a dashboard does (code=~"4..").
  const byClass = (method: string, cls: string): number => [...after.values.entries()]
    .filter(([k]) => k.startsWith(`result_gateway_http_requests_total{route="/v1/results/:taskId",method="${method}",code="${cls}`))
    .reduce((n, [, x]) => n + x, 0)
  t.equal(v('result_gateway_http_requests_total{route="/v1/results/:taskId",method="PUT",code="200"}'), 3)
  t.equal(byClass('PUT', '4'), 1)
  t.equal(byClass('GET', '4'), 2)
  t.equal(v('result_gateway_http_requests_total{route="/v1/results/:taskId",method="GET",code="404"}'), 1, 'missing-one')
  t.equal(v('result_gateway_http_requests_total{route="/v1/results/:taskId",method="GET",code="422"}'), 1, 'the pickle')
  t.ok(v('result_gateway_redis_command_duration_seconds_count{command="evalsha"}') + v('result_gateway_redis_command_duration_seconds_count{command="eval"}') >= 4)
  t.ok(v('result_gateway_payload_bytes_count{direction="write"}') >= 3)
  t.equal(v('result_gateway_waiters'), 0)
  t.same([...after.values.keys()].filter(k => k.startsWith('result_gateway_redis_command_errors_total')), [], 'no failed Redis command (the handshake included)')
  t.equal(v('result_gateway_redis_connection_up{role="subscriber"}'), 1)
  t.equal(v('result_gateway_redis_connection_up{role="data"}'), 1)
  t.notMatch(after.text, id, 'no task id in any label')
  t.notMatch(after.text, 'woken')
})
