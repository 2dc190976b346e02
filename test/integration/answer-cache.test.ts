/**
 * The answer cache against a real redis-server (#28): polls after the first cost no Redis command; a write from
 * another process (redis-cli, Celery's own backend code) is seen by the next read once its invalidation has
 * arrived — SET, DEL, EXPIRE, PERSIST, a key created where a 404 was cached; expiry without Redis noticing;
 * flush-all; the tracking or the data connection lost; this process's own writes are read back at once.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { cacheLive, commandCalls, metric, redisCli, watchInvalidations } from '../helpers/cache.js'
import { clientResult, requireCelery } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const doc = (id: string, status: string, result: unknown) => JSON.stringify({ status, result, traceback: null, children: [], date_done: null, task_id: id })

t.test('the answer cache against a real redis-server', async t => {
  // DEBUG SET-ACTIVE-EXPIRE 0 below: keys then expire only when touched, so only the cache's deadline protects.
  const server = await startRedis(t, ['--enable-debug-command', 'yes'])
  // Celery 5.2 has no global_keyprefix: the gateway reads Celery's own keys (the test Redis is private).
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '' })
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  await cacheLive(app)
  const seen = watchInvalidations(app)
  const key = (id: string) => `celery-task-meta-${id}`
  const cli = (...args: string[]) => redisCli(server.port, args)
  const view = async (id: string) => app.inject(`/v1/results/${id}`)
  /** Writes with `write` (another process), waits for its invalidation, then reads. */
  const afterWrite = async (id: string, write: () => Promise<unknown>, url = `/v1/results/${id}`) => {
    const before = performance.now()
    await write()
    await seen.arrived(key(id), before)
    return app.inject(url)
  }

  t.test('polls after the first two cost no Redis command and answer the same', async t => {
    await cli('SET', key('hot'), doc('hot', 'SUCCESS', { n: 1 }), 'EX', '3600')
    // A key is admitted on its second read (the doorkeeper): two reads each, then every poll is a hit.
    await view('hot')
    await view('hot-missing')
    const first = await view('hot')
    const firstRaw = await app.inject('/v1/results/hot/raw')
    const firstMiss = await view('hot-missing')
    const [gets, ttls, hits] = [await commandCalls(admin, 'get'), await commandCalls(admin, 'ttl'), await metric(app, 'result_gateway_cache_hits_total')]
    for (let i = 0; i < 20; i++) {
      const again = await view('hot')
      t.equal(again.body, first.body)
      t.equal(again.headers.etag, first.headers.etag)
      t.equal(again.headers['content-type'], first.headers['content-type'])
      t.equal((await app.inject('/v1/results/hot/raw')).body, firstRaw.body)
      const miss = await view('hot-missing')
      t.equal(miss.statusCode, 404)
      t.equal(miss.headers['content-type'], firstMiss.headers['content-type'])
    }
    t.equal((await app.inject({ url: '/v1/results/hot', headers: { 'if-none-match': String(first.headers.etag) } })).statusCode, 304, 'a hit answers 304 too')
    t.equal(await commandCalls(admin, 'get'), gets, 'no GET for 60 polls of view, raw and a missing key')
    t.equal(await commandCalls(admin, 'ttl'), ttls, 'no TTL either')
    t.equal(await metric(app, 'result_gateway_cache_hits_total') - hits, 61)
    t.ok(await metric(app, 'result_gateway_cache_bytes') > 0)
    t.equal(await metric(app, 'result_gateway_cache_live'), 1)
  })

  t.test('a write from another process is seen by the next read once its invalidation arrived', async t => {
    await cli('SET', key('w'), doc('w', 'PROGRESS', { step: 1 }), 'EX', '100')
    t.match((await view('w')).json(), { state: 'PROGRESS', result: { step: 1 } })
    t.match((await view('w')).json(), { state: 'PROGRESS', result: { step: 1 } }, 'cached')
    t.match((await afterWrite('w', () => cli('SET', key('w'), doc('w', 'SUCCESS', { step: 2 }), 'EX', '100'))).json(), { state: 'SUCCESS', result: { step: 2 } }, 'SET')
    const ttl = await view('w')
    t.match(ttl.headers['cache-control'], /^private, max-age=(100|99)$/)
    t.equal((await afterWrite('w', () => cli('PERSIST', key('w')))).headers['cache-control'], 'private, max-age=300', 'PERSIST')
    t.equal((await afterWrite('w', () => cli('EXPIRE', key('w'), '42'))).headers['cache-control'], 'private, max-age=42', 'EXPIRE')
    t.equal((await afterWrite('w', () => cli('DEL', key('w')), '/v1/results/w/raw')).statusCode, 404, 'DEL')
    t.equal((await view('w')).statusCode, 404, 'the 404 is cached')
    t.match((await afterWrite('w', () => cli('SET', key('w'), doc('w', 'STARTED', null)))).json(), { state: 'STARTED' }, 'a key created where a 404 was cached')
  })

  t.test('a write by Celery\'s own backend code (another process) is seen after its invalidation', async t => {
    await requireCelery()
    const celery = { redisPort: server.port }
    t.equal((await view('by-celery')).statusCode, 404)
    t.equal((await view('by-celery')).statusCode, 404, 'polled: PENDING')
    const stored = await afterWrite('by-celery', () => clientResult(celery, ['mark', 'by-celery', 'SUCCESS', '{"v": 1}']))
    t.match(stored.json(), { state: 'SUCCESS', result: { v: 1 } })
    t.match((await afterWrite('by-celery', () => clientResult(celery, ['forget', 'by-celery']))).statusCode, 404, 'forget()')
  })

  t.test('an expired key is never served, though Redis has not noticed it expired', async t => {
    await admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')
    t.teardown(() => admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1'))
    await cli('SET', key('short'), doc('short', 'SUCCESS', 1), 'PX', '1500')
    t.equal((await view('short')).statusCode, 200)
    t.equal((await view('short')).statusCode, 200)
    t.ok(app.answers.get(key('short')), 'cached')
    const cachedAt = performance.now()
    // Waiting for the key to expire, not timing anything: the answer is checked, not how long it took.
    await new Promise(resolve => setTimeout(resolve, 1600))
    t.notOk((seen.at.get(key('short')) ?? []).some(at => at > cachedAt), 'Redis sent no invalidation: nothing touched the key')
    t.equal((await view('short')).statusCode, 404, 'not served past its TTL')
  })

  t.test('flush-all (a null invalidation) empties the cache', async t => {
    await cli('SET', key('f'), doc('f', 'SUCCESS', 1))
    t.equal((await view('f')).statusCode, 200)
    t.equal((await view('f')).statusCode, 200)
    const flushes = seen.flushes.length
    await cli('FLUSHDB')
    await until(() => seen.flushes.length > flushes, 'the flush-all message')
    t.equal((await view('f')).statusCode, 404)
  })

  t.test('the tracking or the data connection lost: flushed, then live again, and no write in between is missed', async t => {
    for (const name of ['result-gateway:tracking', 'result-gateway:data']) {
      await cli('SET', key('c'), doc('c', 'PROGRESS', 1))
      t.match((await view('c')).json(), { result: 1 })
      t.match((await view('c')).json(), { result: 1 }, 'cached')
      const list = await cli('CLIENT', 'LIST')
      const id = new RegExp(`^id=(\\d+) .*name=${name} `, 'm').exec(list)?.[1]
      t.ok(id, `${name} is connected`)
      await cli('CLIENT', 'KILL', 'ID', String(id))
      // A write while that connection is gone: its invalidation (if any) reaches no one.
      await cli('SET', key('c'), doc('c', 'PROGRESS', 2))
      await until(() => !app.answers.live || app.answers.size === 0, `the cache flushed after ${name} was lost`)
      await until(() => app.answers.live, 'tracking back in place')
      t.match((await view('c')).json(), { result: 2 }, `${name}: the write made while it was down is read`)
    }
  })

  t.test('this process\'s own writes are read back at once (no waiting for the invalidation)', async t => {
    const put = (body: unknown) => app.inject({ method: 'PUT', url: '/v1/results/own', headers: json, payload: JSON.stringify(body) })
    await put({ state: 'STARTED' })
    t.match((await view('own')).json(), { state: 'STARTED' })
    t.match((await view('own')).json(), { state: 'STARTED' })
    await put({ state: 'SUCCESS', result: 5, ttlSeconds: 100 })
    t.match((await view('own')).json(), { state: 'SUCCESS', result: 5 })
    await app.inject({ method: 'PUT', url: '/v1/results/own/ttl', headers: json, payload: '{"ttlSeconds":null}' })
    t.equal((await view('own')).headers['cache-control'], 'private, max-age=300')
    await app.inject({ method: 'DELETE', url: '/v1/results/own' })
    t.equal((await view('own')).statusCode, 404)
  })
})

t.test('evicted keys are invalidated too', async t => {
  const server = await startRedis(t, ['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru'])
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '' })
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  await cacheLive(app)
  const ids = Array.from({ length: 20 }, (_, i) => `ev-${i}`)
  for (const id of ids) await admin.set(`celery-task-meta-${id}`, doc(id, 'SUCCESS', 'x'.repeat(1000)))
  for (const id of ids) t.equal((await app.inject(`/v1/results/${id}`)).statusCode, 200)
  for (const id of ids) t.equal((await app.inject(`/v1/results/${id}`)).statusCode, 200, 'read twice: cached')
  const cached = app.answers.size
  t.equal(cached, ids.length)
  // Filler outside the result prefix pushes the (older, unread since) results out.
  const filler = 'y'.repeat(10_000)
  for (let i = 0; i < 2000 && (await admin.exists(...ids.map(id => `celery-task-meta-${id}`))) === ids.length; i++) {
    await admin.set(`filler-${i}`, filler).catch(() => {})
  }
  t.ok(await admin.exists(...ids.map(id => `celery-task-meta-${id}`)) < ids.length, 'some results were evicted')
  await until(() => app.answers.size < cached, 'the evictions\' invalidations')
  for (const id of ids) {
    const inRedis = await admin.exists(`celery-task-meta-${id}`)
    const res = await app.inject(`/v1/results/${id}`)
    // A read may itself be what keeps a key: only a key gone from Redis must be a 404.
    if (inRedis === 0) t.equal(res.statusCode, 404, `${id} evicted: not served`)
  }
})

t.test('RG_CACHE_MAX_BYTES=0: every read goes to Redis', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_CACHE_MAX_BYTES: '0' })
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  await app.inject({ method: 'PUT', url: '/v1/results/off', headers: json, payload: '{"state":"SUCCESS","result":1}' })
  const gets = await commandCalls(admin, 'get')
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/v1/results/off')).statusCode, 200)
  t.equal(await commandCalls(admin, 'get') - gets, 5)
  t.equal(app.answers.live, false)
  t.equal(await metric(app, 'result_gateway_cache_live'), 0)
})
