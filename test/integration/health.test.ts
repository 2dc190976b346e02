import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

t.test('probes', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)

  const live = await app.inject('/healthz')
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })

  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)

  app.lifecycle.draining = true
  const draining = await app.inject('/readyz')
  t.equal(draining.statusCode, 503)
  t.match(draining.headers['content-type'], /^application\/problem\+json/)
  t.equal(draining.json().code, 'RG_SHUTTING_DOWN')
  t.equal(draining.headers['retry-after'], '1')
})

t.test('readiness fails fast and liveness holds when Redis is gone', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url, { RG_REDIS_COMMAND_TIMEOUT_MS: '300' })
  // Ready first (a loaded machine can make one PING outlast 300 ms: that 503 is right, and not the subject).
  await eventually(async () => (await app.inject('/readyz')).statusCode, s => s === 200, 'ready while Redis runs')
  await redis.stop()
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.equal(ready.json().code, 'RG_REDIS_UNAVAILABLE')
  t.equal(ready.headers['retry-after'], '1')
  t.equal((await app.inject('/healthz')).statusCode, 200)
})

t.test('the docs UI and API document are served with security headers', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  const page = await app.inject('/docs')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-security-policy'], /default-src 'self'/)
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.match(page.headers['x-frame-options'], /SAMEORIGIN/)
  const doc = await app.inject('/openapi.json')
  t.equal(doc.json().openapi, '3.1.0')
  t.equal(doc.headers['x-content-type-options'], 'nosniff')
})
