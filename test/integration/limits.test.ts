import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ConfigSchema } from '../../src/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'
import { freePort } from '../../src/redis/spawn.js'
import { connect } from 'node:net'
import { eventually } from '../helpers/until.js'

/**
 * An API request and /readyz in one write on one connection (HTTP/1.1 pipelining): the server parses both
 * from one chunk and decides both before any timer runs, so the load sampler cannot change its verdict
 * between them. Two separate requests could straddle a sample on a loaded machine and disagree for real.
 */
function pipelinedPair (port: number): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      text += chunk
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map(m => Number(m[1]))
      if (statuses.length === 2) {
        socket.destroy()
        resolve([statuses[0] as number, statuses[1] as number])
      }
    })
    socket.on('error', reject)
    socket.write('GET /v1/results/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  })
}

t.test('load shedding: 503 + Retry-After as problem+json; /readyz agrees, liveness and metrics still answer', async t => {
  const server = await startRedis(t)
  // A heap limit of 1 byte is always exceeded: every sheddable request is shed, deterministically.
  const app = await buildTestApp(t, server.url, { RG_LOAD_MAX_HEAP_USED_BYTES: '1', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RG_LOAD_SAMPLE_INTERVAL_MS: '5' })
  await new Promise(resolve => setTimeout(resolve, 50))
  const shed = await app.inject('/v1/results/any')
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '1')
  t.match(shed.headers['content-type'], /^application\/problem\+json/)
  t.match(shed.json(), { code: 'RG_OVERLOADED', type: '/problems/overloaded', detail: /heapUsedBytes/ })
  for (const url of ['/healthz', '/metrics']) t.equal((await app.inject(url)).statusCode, 200, url)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503, 'readiness says what API requests get: take this instance out of rotation')
  t.match(ready.json(), { code: 'RG_OVERLOADED', detail: /heapUsedBytes/ })
})

t.test('event-loop lag: API requests and /readyz give the same verdict, and both recover', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '100', RG_LOAD_SAMPLE_INTERVAL_MS: '50' })
  const both = async () => Promise.all([app.inject('/v1/results/any'), app.inject('/readyz')]).then(([a, r]) => [a.statusCode, r.statusCode])
  // Served once the sampler has seen the loop keep time. Not a fixed 200 ms: on a loaded CI machine the loop
  // lags for real right after the app starts (seen: [503, 503] after 200 ms), and then both answers agree anyway.
  t.same(await eventually(both, v => v[0] === 404, 'served before the lag'), [404, 200], 'served before the lag')
  // A real lag: the loop stalls 150 ms at a time, over several sample intervals.
  for (let i = 0; i < 6; i++) {
    const end = Date.now() + 150
    while (Date.now() < end) { /* busy */ }
    await new Promise(resolve => setImmediate(resolve))
  }
  t.same(await both(), [503, 503], 'shed, and not ready, together')
  let verdict: number[] = []
  for (let i = 0; i < 100; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    verdict = await both()
    if (verdict[0] === 404) break
  }
  t.same(verdict, [404, 200], 'served and ready again once the loop keeps time')
})

t.test('start-up work is not overload: right after listening, API requests are served while /readyz is 200', async t => {
  const port = await freePort()
  // A short sample interval and a low limit make the start-up stall visible to the sampler.
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_LOAD_SAMPLE_INTERVAL_MS: '100', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '100' })
  await srv.listening()
  const seen = new Map<string, number>()
  const end = Date.now() + 1500
  while (Date.now() < end) {
    const [api, ready] = await pipelinedPair(port)
    const pair = `${api}/${ready}`
    seen.set(pair, (seen.get(pair) ?? 0) + 1)
  }
  // A CI machine under load may lag for real (then both answers are 503: they agree); what must never happen is
  // an API request shed while /readyz says 200 (on the old code: 7-9 such pairs right after start).
  const pairs = JSON.stringify(Object.fromEntries(seen))
  t.notOk(seen.has('503/200'), `no API request shed while /readyz says ready (${pairs})`)
  t.ok((seen.get('404/200') ?? 0) > 0, `requests were served (${pairs})`)
})

t.test('no shedding under the default limits', async t => {
  const server = await startRedis(t)
  // The shipped defaults, event-loop lag included (the test helper turns that one off for every other test).
  const app = await buildTestApp(t, server.url, { RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: String(ConfigSchema.properties.RG_LOAD_MAX_EVENT_LOOP_DELAY_MS.default) })
  t.equal(app.settings.load.maxEventLoopDelayMs, 1000)
  t.equal((await app.inject('/v1/results/any')).statusCode, 404)
})
