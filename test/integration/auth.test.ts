import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const tokens = {
  reader: 'r'.repeat(24),
  writer: 'w'.repeat(24),
  admin: 'a'.repeat(24),
  app2: 'x'.repeat(24)
}

t.test('API tokens with scopes and key-prefix confinement', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, {
    RG_AUTH_DISABLED: 'false',
    RG_REDIS_KEY_PREFIX: 'app1',
    RG_METRICS_PUBLIC: 'false',
    RG_AUTH_TOKENS: JSON.stringify([
      { name: 'reader', token: tokens.reader, scopes: ['read'] },
      { name: 'writer', token: tokens.writer, scopes: ['read', 'write'] },
      { name: 'ops', token: tokens.admin, scopes: ['admin'] },
      { name: 'app2-svc', token: tokens.app2, scopes: ['read', 'write'], keyPrefix: 'app2' }
    ])
  })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const as = (token: string | undefined) => (token === undefined ? {} : { authorization: `Bearer ${token}` })
  const put = (id: string, token?: string) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: { 'content-type': 'application/json', ...as(token) }, payload: '{"state":"SUCCESS","result":1}' })

  t.test('401 without a valid token, with WWW-Authenticate, as problem+json', async t => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer ' }, { authorization: `Bearer ${'z'.repeat(24)}` }, { authorization: `Bearer ${tokens.reader}x` }]) {
      const res = await app.inject({ url: '/v1/results/x', headers })
      t.equal(res.statusCode, 401, JSON.stringify(headers))
      t.equal(res.headers['www-authenticate'], 'Bearer realm="result-gateway"')
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.equal(res.json().code, 'RG_UNAUTHENTICATED')
      t.notMatch(res.body, /rrrrrrrr|zzzzzzzz/, 'the presented token is not echoed')
    }
    t.equal(await redis.dbsize(), 0)
  })

  t.test('403 when the scope is missing; read, write and admin scopes', async t => {
    const denied = await put('s1', tokens.reader)
    t.equal(denied.statusCode, 403)
    t.match(denied.json(), { code: 'RG_FORBIDDEN', detail: /reader lacks the write scope/ })
    t.equal(await redis.exists('app1_celery-task-meta-s1'), 0, 'nothing written')
    t.equal((await put('s1', tokens.writer)).statusCode, 200)
    t.equal((await app.inject({ url: '/v1/results/s1', headers: as(tokens.reader) })).statusCode, 200)
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/results/s1', headers: as(tokens.reader) })).statusCode, 403)
    t.equal((await put('s2', tokens.admin)).statusCode, 200, 'admin implies write')
    t.equal((await app.inject({ url: '/metrics', headers: as(tokens.reader) })).statusCode, 403, 'private /metrics needs admin')
    t.equal((await app.inject({ url: '/metrics', headers: as(tokens.admin) })).statusCode, 200)
  })

  t.test('probes and the API document stay public', async t => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/json']) t.equal((await app.inject(url)).statusCode, 200, url)
    t.equal((await app.inject('/metrics')).statusCode, 401, 'unless RG_METRICS_PUBLIC')
  })

  t.test('a token with a keyPrefix only ever touches that Celery app\'s keys', async t => {
    t.equal((await put('shared-id', tokens.app2)).statusCode, 200)
    t.equal(await redis.exists('app2_celery-task-meta-shared-id'), 1, 'written under app2_')
    t.equal(await redis.exists('app1_celery-task-meta-shared-id'), 0)
    t.equal((await app.inject({ url: '/v1/results/s2', headers: as(tokens.app2) })).statusCode, 404, 'app1\'s result is invisible to app2')
    t.equal((await app.inject({ url: '/v1/results/shared-id', headers: as(tokens.reader) })).statusCode, 404, 'and the other way round')
    const batch = await app.inject({ method: 'POST', url: '/v1/results:batchGet', headers: { 'content-type': 'application/json', ...as(tokens.app2) }, payload: { taskIds: ['s2', 'shared-id'] } })
    t.match(batch.json().results, [{ taskId: 's2', found: false }, { taskId: 'shared-id', found: true }])
  })
})

t.test('CORS is off by default and answers only the configured origins', async t => {
  const server = await startRedis(t)
  const off = await buildTestApp(t, server.url)
  const pre = { method: 'OPTIONS' as const, url: '/v1/results/x', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } }
  t.notOk((await off.inject(pre)).headers['access-control-allow-origin'], 'no CORS headers by default')
  const on = await buildTestApp(t, server.url, { RG_CORS_ORIGINS: 'https://app.example, https://ops.example' })
  t.equal((await on.inject(pre)).headers['access-control-allow-origin'], 'https://app.example')
  t.notOk((await on.inject({ ...pre, headers: { ...pre.headers, origin: 'https://evil.example' } })).headers['access-control-allow-origin'])
})

t.test('per-token rate limits, counted in Redis: 429 rate-limited with Retry-After; probes exempt', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, {
    RG_AUTH_DISABLED: 'false',
    RG_RATE_LIMIT_PER_MINUTE: '3',
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'a', token: 'a'.repeat(24), scopes: ['read'] }, { name: 'b', token: 'b'.repeat(24), scopes: ['read'] }])
  })
  const get = (token: string) => app.inject({ url: '/v1/results/x', headers: { authorization: `Bearer ${token}` } })
  for (let i = 0; i < 3; i++) t.equal((await get('a'.repeat(24))).statusCode, 404)
  const limited = await get('a'.repeat(24))
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.match(limited.json(), { code: 'RG_RATE_LIMITED', type: '/problems/rate-limited' })
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After set')
  t.equal((await get('b'.repeat(24))).statusCode, 404, 'another token has its own budget')
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/healthz')).statusCode, 200)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const [, keys] = await redis.scan('0', 'MATCH', `${app.settings.redis.keyPrefix}result-gateway-rate-*`, 'COUNT', 1000)
  t.ok(keys.length >= 1, 'counters live in Redis under the gateway prefix, shared by replicas')
})
