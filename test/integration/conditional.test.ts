/** Conditional reads: ETag on every read of a stored result, If-None-Match → 304, Cache-Control by readiness and TTL. */
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const json = { 'content-type': 'application/json' }

t.test('conditional reads against a real redis-server', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })
  const get = (url: string, etag?: string) => app.inject({ url, headers: etag === undefined ? {} : { 'if-none-match': etag } })
  const maxAge = (cc: unknown): number => Number(/^private, max-age=(\d+)$/.exec(String(cc))?.[1] ?? NaN)

  t.test('a ready result: ETag, private max-age within the TTL, 304 for the current tag', async t => {
    t.equal((await put('c-ready', { state: 'SUCCESS', result: { n: 1 }, ttlSeconds: 120 })).statusCode, 200)
    for (const url of ['/v1/results/c-ready', '/v1/results/c-ready/raw']) {
      const first = await get(url)
      t.equal(first.statusCode, 200, url)
      const etag = first.headers.etag
      t.match(etag, /^"(view|raw)-[\w-]+"$/, `${url}: strong ETag`)
      const age = maxAge(first.headers['cache-control'])
      t.ok(age > 0 && age <= 120, `${url}: max-age ${age} is within the key's TTL`)
      const again = await get(url, String(etag))
      t.equal(again.statusCode, 304, `${url}: If-None-Match with the current tag`)
      t.equal(again.body, '', 'no body')
      t.equal(again.headers.etag, etag, '304 repeats the ETag')
      // The TTL counts down between the two reads (a second boundary, or more on a loaded machine).
      const againAge = maxAge(again.headers['cache-control'])
      t.ok(againAge > 0 && againAge <= age, `304 carries Cache-Control too, max-age ${againAge} (was ${age})`)
      t.equal((await get(url, `"other", W/${String(etag)}`)).statusCode, 304, 'weak comparison in a list')
      t.equal((await get(url, '*')).statusCode, 304, '* matches a stored result')
      t.equal((await get(url, '"stale"')).statusCode, 200, 'another tag gets the full answer')
    }
    const view = await get('/v1/results/c-ready')
    const raw = await get('/v1/results/c-ready/raw')
    t.not(view.headers.etag, raw.headers.etag, 'view and raw are different representations')
  })

  t.test('max-age is capped, and bounded by a short TTL', async t => {
    await put('c-forever', { state: 'FAILURE', error: { type: 'ValueError', message: 'x' }, ttlSeconds: null })
    t.equal((await get('/v1/results/c-forever')).headers['cache-control'], 'private, max-age=300')
    await put('c-short', { state: 'REVOKED', error: { type: 'TaskRevokedError', message: 'x' }, ttlSeconds: 5 })
    t.ok(maxAge((await get('/v1/results/c-short')).headers['cache-control']) <= 5)
  })

  t.test('a result that can still change is never stored, and a change changes the tag', async t => {
    await put('c-run', { state: 'STARTED', result: { pid: 1 } })
    const first = await get('/v1/results/c-run')
    t.equal(first.headers['cache-control'], 'no-store')
    t.ok(first.headers.etag)
    t.equal((await get('/v1/results/c-run', String(first.headers.etag))).statusCode, 304, 'unchanged: 304')
    await put('c-run', { state: 'SUCCESS', result: 2 })
    const after = await get('/v1/results/c-run', String(first.headers.etag))
    t.equal(after.statusCode, 200, 'changed: the old tag no longer matches')
    t.not(after.headers.etag, first.headers.etag)
    t.match(after.json(), { state: 'SUCCESS', result: 2 })
  })

  t.test('the tag is a digest of the stored bytes: a value written by Celery gets one too', async t => {
    const key = `${app.settings.redis.keyPrefix}celery-task-meta-c-celery`
    await redis.set(key, '{"status": "SUCCESS", "result": 3, "traceback": null, "children": [], "date_done": "2024-01-01T00:00:00.000000+00:00", "task_id": "c-celery"}', 'EX', 60)
    const a = await get('/v1/results/c-celery')
    t.equal(a.statusCode, 200)
    t.ok(a.headers.etag)
    t.equal((await get('/v1/results/c-celery')).headers.etag, a.headers.etag, 'stable across reads')
  })

  t.test('nothing stored: 404 problem, no ETag', async t => {
    const res = await get('/v1/results/c-none', '*')
    t.equal(res.statusCode, 404)
    t.notOk(res.headers.etag)
  })
})
