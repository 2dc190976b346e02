/**
 * Gateway → Celery: results stored through the gateway read in Celery's own AsyncResult (5.2, or the release
 * RG_TEST_CELERY_PATH points at), including a
 * get() that was already waiting (subscribed) before the gateway's write.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { client, clientResult, requireCelery, type CeleryEnv } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'

interface Described {
  id: string
  state: string
  result?: unknown
  traceback: string | null
  date_done: string | null
  exc_type?: string
  exc_args?: unknown[]
  exc_is_value_error?: boolean
  get?: unknown
}

const json = { 'content-type': 'application/json' }

t.test('what the gateway stores, Celery\'s AsyncResult reads', async t => {
  await requireCelery()
  const server = await startRedis(t)
  const celery: CeleryEnv = { redisPort: server.port }
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '' })
  const put = (id: string, body: unknown, on = app) => on.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })
  const read = (env: CeleryEnv, ...ids: string[]) => clientResult<Described[]>(env, ['read', ...ids])

  t.test('SUCCESS, FAILURE, a custom state, and no expiry', async t => {
    const ok = randomUUID()
    const failed = randomUUID()
    const prog = randomUUID()
    t.equal((await put(ok, { state: 'SUCCESS', result: { rows: [1, 2], name: 'ünïcødé' }, ttlSeconds: null })).statusCode, 200)
    t.equal((await put(failed, { state: 'FAILURE', error: { type: 'ValueError', message: 'bad' }, traceback: 'Traceback (most recent call last):\nValueError: bad\n' })).statusCode, 200)
    t.equal((await put(prog, { state: 'PROGRESS', result: { current: 3, total: 10 } })).statusCode, 200)
    const [a, b, c] = await read(celery, ok, failed, prog)
    t.match(a, { state: 'SUCCESS', result: { rows: [1, 2], name: 'ünïcødé' } })
    t.match(a?.date_done, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/, 'AsyncResult.date_done parses the gateway\'s date')
    t.match(b, { state: 'FAILURE', exc_type: 'ValueError', exc_args: ['bad'], exc_is_value_error: true, traceback: 'Traceback (most recent call last):\nValueError: bad\n' })
    t.ok(b?.date_done)
    t.match(c, { state: 'PROGRESS', result: { current: 3, total: 10 }, date_done: null })
  })

  t.test('msgpack: written with RG_RESULT_SERIALIZER=msgpack, read by Celery with result_serializer=msgpack', async t => {
    const mp = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '', RG_RESULT_SERIALIZER: 'msgpack' })
    const id = randomUUID()
    t.equal((await put(id, { state: 'SUCCESS', result: [1, 'two', { three: 3.5 }] }, mp)).statusCode, 200)
    const [r] = await read({ ...celery, serializer: 'msgpack' }, id)
    t.match(r, { state: 'SUCCESS', result: [1, 'two', { three: 3.5 }] })
    t.ok(r?.date_done)
  })

  t.test('an AsyncResult.get() already waiting wakes on the gateway\'s PUBLISH', async t => {
    const id = randomUUID()
    const waiting = client(celery, ['get', id, '30'])
    const first = await waiting.lines.next()
    t.same(first.value, { waiting: true })
    // Celery's ResultConsumer subscribes to the key's channel: confirm it before writing.
    const redis = new Redis(server.port, '127.0.0.1')
    t.teardown(() => redis.quit())
    for (let i = 0; i < 3000; i++) {
      const [, subscribers] = await redis.pubsub('NUMSUB', `celery-task-meta-${id}`) as [string, number]
      if (subscribers > 0) break
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    const stored = await put(id, { state: 'SUCCESS', result: 'woken' })
    t.ok(stored.json().published >= 1, 'the PUBLISH reached Celery\'s subscriber')
    const out = (await waiting.done).at(-1) as Described
    t.match(out, { state: 'SUCCESS', get: 'woken', result: 'woken' })
  })

  t.test('DELETE is forget(): Celery sees PENDING again; Celery\'s forget() is seen by the gateway', async t => {
    const id = randomUUID()
    await put(id, { state: 'SUCCESS', result: 1 })
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/results/${id}` })).statusCode, 204)
    const [r] = await read(celery, id)
    t.match(r, { state: 'PENDING' })
    const other = randomUUID()
    await put(other, { state: 'SUCCESS', result: 2 })
    await clientResult(celery, ['forget', other])
    t.equal((await app.inject(`/v1/results/${other}`)).statusCode, 404)
  })

  t.test('SUCCESS stays final for Celery too', async t => {
    const id = randomUUID()
    await put(id, { state: 'SUCCESS', result: 'first' })
    t.equal((await put(id, { state: 'FAILURE', error: { type: 'RuntimeError', message: 'late' } })).statusCode, 409)
    const [r] = await read(celery, id)
    t.match(r, { state: 'SUCCESS', result: 'first' })
  })
})
