/**
 * Google-style custom methods (`results:batchGet`, `admin/orphans:sweep`) are matched exactly: a near-miss
 * path is a 404 and never reaches a handler (the sweep with apply=true gives keys a TTL).
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const json = { 'content-type': 'application/json' }

t.test('custom-method routes match exactly', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  // An orphan (no TTL): only the real sweep with apply=true may give it one.
  const orphan = `${app.settings.redis.keyPrefix}celery-task-meta-orphan-1`
  await redis.set(orphan, '{"status":"SUCCESS","result":1,"task_id":"orphan-1"}')
  const post = (url: string, body: unknown) => app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(body) })

  for (const url of ['/v1/admin/orphans', '/v1/admin/orphansXYZ', '/v1/admin/orphans:delete-everything', '/v1/admin/orphans:sweepX', '/v1/admin/orphans:']) {
    const res = await post(url, { apply: true })
    t.equal(res.statusCode, 404, `${url} is not the sweep`)
    t.equal(res.json().code, 'RG_ROUTE_NOT_FOUND', url)
  }
  t.equal(await redis.ttl(orphan), -1, 'no near miss reached the sweep handler')
  for (const url of ['/v1/results:batchGetX', '/v1/results:batch', '/v1/results:batchWaitNow', '/v1/results:']) {
    const res = await post(url, { taskIds: ['a'] })
    t.equal(res.statusCode, 404, `${url} is not a batch route`)
  }

  const dry = await post('/v1/admin/orphans:sweep', {})
  t.equal(dry.statusCode, 200, 'the exact path is the sweep')
  t.match(dry.json(), { orphans: 1, dryRun: true })
  t.equal((await post('/v1/results:batchGet', { taskIds: ['orphan-1'] })).statusCode, 200)
})
