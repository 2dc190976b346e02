import fc from 'fast-check'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

t.test('generated hostile ids through every route: Redis keys never leave the prefix', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: 'ns1' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const outside = await redis.set('other-service:secret', 'untouched')
  t.equal(outside, 'OK')
  const ids = fc.sample(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary-ascii', maxLength: 40 })), { numRuns: 300, seed: 7 })
  const statuses = new Set<number>()
  for (const id of ids) {
    const path = `/v1/results/${encodeURIComponent(id)}`
    // DELETE first, so the stores stay in Redis for the final scan.
    for (const req of [
      { method: 'DELETE' as const, url: path },
      { method: 'PUT' as const, url: path, headers: { 'content-type': 'application/json' }, payload: '{"state":"SUCCESS","result":1}' },
      { method: 'GET' as const, url: path },
      { method: 'PUT' as const, url: `${path}/ttl`, headers: { 'content-type': 'application/json' }, payload: '{"ttlSeconds":60}' }
    ]) {
      const res = await app.inject(req)
      statuses.add(res.statusCode)
      t.ok(res.statusCode < 500, `${req.method} ${JSON.stringify(id)} → ${res.statusCode}`)
    }
  }
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  t.ok(keys.length > 10, `${keys.length} keys written`)
  t.same(keys.filter(k => !k.startsWith('ns1_celery-task-meta-') && k !== 'other-service:secret'), [], 'every key the gateway wrote is inside ns1_celery-task-meta-')
  t.equal(await redis.get('other-service:secret'), 'untouched')
  t.ok(statuses.has(400) && statuses.has(200), `both refusals and successes were exercised: ${[...statuses].join(', ')}`)
})
