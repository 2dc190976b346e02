import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ConfigSchema } from '../../src/config.js'
import { startRedis } from '../helpers/redis-server.js'

t.test('load shedding: 503 + Retry-After as problem+json; probes and metrics still answer', async t => {
  const server = await startRedis(t)
  // A heap limit of 1 byte is always exceeded: every sheddable request is shed, deterministically.
  const app = await buildTestApp(t, server.url, { RG_LOAD_MAX_HEAP_USED_BYTES: '1', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RG_LOAD_SAMPLE_INTERVAL_MS: '5' })
  await new Promise(resolve => setTimeout(resolve, 50))
  const shed = await app.inject('/v1/results/any')
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '1')
  t.match(shed.headers['content-type'], /^application\/problem\+json/)
  t.match(shed.json(), { code: 'RG_OVERLOADED', type: '/problems/overloaded', detail: /heapUsedBytes/ })
  for (const url of ['/healthz', '/readyz', '/metrics']) t.equal((await app.inject(url)).statusCode, 200, url)
})

t.test('no shedding under the default limits', async t => {
  const server = await startRedis(t)
  // The shipped defaults, event-loop lag included (the test helper turns that one off for every other test).
  const app = await buildTestApp(t, server.url, { RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: String(ConfigSchema.properties.RG_LOAD_MAX_EVENT_LOOP_DELAY_MS.default) })
  t.equal(app.settings.load.maxEventLoopDelayMs, 1000)
  t.equal((await app.inject('/v1/results/any')).statusCode, 404)
})
