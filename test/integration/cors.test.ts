import { request } from 'node:http'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const ORIGIN = 'http://127.0.0.1:5173'
const READER = 'r'.repeat(24)
const WRITER = 'w'.repeat(24)
const TOKENS = JSON.stringify([
  { name: 'reader', token: READER, scopes: ['read'] },
  { name: 'writer', token: WRITER, scopes: ['read', 'write'] }
])
const EXPOSED = ['etag', 'x-request-id', 'retry-after', 'cache-control', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

const list = (v: string | string[] | number | undefined): string[] =>
  String(v ?? '').split(',').map(s => s.trim().toLowerCase()).filter(s => s !== '')

/** The answer head of a GET over a real socket; the body is dropped once the head is in. */
function head (url: string, headers: Record<string, string>): Promise<{ status: number, headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, res => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers })
      req.destroy()
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('CORS covers the whole API when RG_CORS_ORIGINS is set', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, {
    RG_CORS_ORIGINS: ORIGIN,
    RG_AUTH_DISABLED: 'false',
    RG_AUTH_TOKENS: TOKENS,
    RG_RATE_LIMIT_PER_MINUTE: '1000'
  })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  await redis.set(key('done'), JSON.stringify({ status: 'SUCCESS', result: 42, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: 'done' }))
  const auth = { authorization: `Bearer ${READER}` }

  t.test('a preflight allows every method and header a page needs, without credentials', async t => {
    for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']) {
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/v1/results/done',
        headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,if-none-match,last-event-id,x-request-id,traceparent,tracestate,baggage' }
      })
      t.equal(pre.statusCode, 204, `${method}: preflight answered`)
      t.equal(pre.headers['access-control-allow-origin'], ORIGIN)
      t.ok(list(pre.headers['access-control-allow-methods']).includes(method.toLowerCase()), `${method} allowed`)
      t.same(list(pre.headers['access-control-allow-headers']).sort(),
        ['authorization', 'baggage', 'content-type', 'if-none-match', 'last-event-id', 'traceparent', 'tracestate', 'x-request-id'])
      t.notOk(pre.headers['access-control-allow-credentials'], 'no credentials mode')
      t.match(pre.headers.vary, /origin/i)
      t.equal(pre.headers['x-content-type-options'], 'nosniff', 'a preflight is an answer like any other')
    }
    const evil = await app.inject({ method: 'OPTIONS', url: '/v1/results/done', headers: { origin: 'http://evil.example', 'access-control-request-method': 'DELETE' } })
    t.notOk(evil.headers['access-control-allow-origin'], 'another origin gets no grant')
  })

  t.test('a fetch, a 304 and a problem answer all carry the grant and the exposed headers', async t => {
    const fetched = await app.inject({ url: '/v1/results/done', headers: { origin: ORIGIN, ...auth } })
    t.equal(fetched.statusCode, 200)
    t.equal(fetched.headers['access-control-allow-origin'], ORIGIN)
    t.same(list(fetched.headers['access-control-expose-headers']).sort(), [...EXPOSED].sort())
    t.ok(fetched.headers['x-ratelimit-remaining'] !== undefined, 'rate-limit headers present to be exposed')

    const again = await app.inject({ url: '/v1/results/done', headers: { origin: ORIGIN, 'if-none-match': String(fetched.headers.etag), ...auth } })
    t.equal(again.statusCode, 304)
    t.equal(again.headers['access-control-allow-origin'], ORIGIN)
    t.same(list(again.headers['access-control-expose-headers']).sort(), [...EXPOSED].sort())

    for (const [what, res] of [
      ['404', await app.inject({ url: '/v1/results/nope', headers: { origin: ORIGIN, ...auth } })],
      ['401', await app.inject({ url: '/v1/results/done', headers: { origin: ORIGIN } })],
      ['403', await app.inject({ method: 'DELETE', url: '/v1/results/done', headers: { origin: ORIGIN, ...auth } })],
      ['route 404', await app.inject({ url: '/v1/nothing-here', headers: { origin: ORIGIN } })]
    ] as const) {
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${what} is a problem`)
      t.equal(res.headers['access-control-allow-origin'], ORIGIN, `${what} carries the grant`)
      t.same(list(res.headers['access-control-expose-headers']).sort(), [...EXPOSED].sort(), `${what} exposes the headers`)
    }
  })

  t.test('the SSE stream carries the grant, nosniff, the request id and the rate-limit headers', async t => {
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const res = await head(`${base}/v1/results/done/events?timeoutSeconds=5`, { origin: ORIGIN, 'x-request-id': 'sse-cors-1', ...auth })
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /^text\/event-stream/)
    t.equal(res.headers['access-control-allow-origin'], ORIGIN, 'CORS grant on the stream')
    t.same(list(res.headers['access-control-expose-headers']).sort(), [...EXPOSED].sort())
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-request-id'], 'sse-cors-1')
    t.ok(res.headers['x-ratelimit-limit'] !== undefined, 'rate-limit headers on the stream')
    t.equal(res.headers['cache-control'], 'no-store')
    t.notOk(res.headers['content-encoding'], 'a stream is never compressed')
  })
})

t.test('CORS stays off without RG_CORS_ORIGINS', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const pre = await app.inject({ method: 'OPTIONS', url: '/v1/results/x', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } })
  t.notOk(pre.headers['access-control-allow-origin'])
  const res = await app.inject({ url: '/v1/results/x', headers: { origin: ORIGIN } })
  t.notOk(res.headers['access-control-allow-origin'])
  t.notOk(res.headers['access-control-expose-headers'])
})
