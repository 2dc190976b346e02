/**
 * A live /metrics, after traffic of every kind (stores, reads, 404s, a long-poll), piped through
 * `promtool check metrics`: zero problems. Plus the shapes dashboards and alerts rely on.
 */
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { promtool } from '../helpers/promtool.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }

t.test('promtool check metrics finds no problem in a live /metrics', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_MAX_SECONDS: '20', RG_WAIT_DEFAULT_SECONDS: '10', RG_WAIT_MAX_WAITERS: '123' })
  const scrape = async (): Promise<string> => (await app.inject('/metrics')).body
  // The first statistics run starts with the app, not one interval (300 s) later.
  await until(async () => !/stats_last_run_timestamp_seconds 0\n/.test(await scrape()), 'statistics refreshed right after start')
  await app.inject({ method: 'PUT', url: '/v1/results/pm-1', headers: json, payload: { state: 'SUCCESS', result: 1 } })
  await app.inject({ method: 'PUT', url: '/v1/results/pm-1', headers: json, payload: { state: 'SUCCESS', result: 2 } })
  await app.inject('/v1/results/pm-1')
  await app.inject('/v1/results/nope')
  await app.inject('/v1/results/pm-1/wait?timeoutSeconds=1')
  await app.inject('/no/such/route')
  await app.resultStats.refresh()
  const body = await scrape()
  const check = await promtool(['check', 'metrics'], body)
  t.equal(check.output, '', 'no lint problem')
  t.equal(check.code, 0, 'promtool exits 0')

  t.match(body, /result_gateway_http_requests_total\{route="\/v1\/results\/:taskId",method="PUT",code="409"\} 1/, 'code is the exact status')
  t.match(body, /result_gateway_http_requests_total\{route="\/v1\/results\/:taskId",method="GET",code="404"\} 1/)
  t.match(body, new RegExp(`result_gateway_build_info\\{version="\\d+\\.\\d+\\.\\d+[^"]*",node_version="${process.versions.node}"\\} 1`))
  t.match(body, /result_gateway_result_keys\{state="SUCCESS",ttl="under_1d"\} 1/, 'keys by state with the TTL bucket as a label')
  t.match(body, /result_gateway_redis_memory_used_bytes [1-9]/)
  t.match(body, /result_gateway_redis_memory_peak_bytes [1-9]/)
  t.match(body, /result_gateway_redis_memory_max_bytes 0/)
  t.notMatch(body, /result_gateway_redis_memory_bytes|result_keys_by_ttl/, 'the mixed gauges are gone')
  t.match(body, /result_gateway_waiters_max 123/)
  t.match(body, /result_gateway_wait_max_seconds 20/)
  t.match(body, /result_gateway_wait_duration_seconds_bucket\{le="20",route="\/v1\/results\/:taskId\/wait"\} 1/, 'waits have their own histogram, ending at RG_WAIT_MAX_SECONDS')
  t.notMatch(body, /http_request_duration_seconds_bucket\{[^}]*route="\/v1\/results\/:taskId\/wait"/, 'and stay out of the latency histogram')
})
