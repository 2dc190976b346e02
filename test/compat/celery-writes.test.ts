/**
 * Celery → gateway: a real Celery worker (Debian's 5.2, or RG_TEST_CELERY_PATH's) stores results, the gateway
 * reads them (view, raw, wait, groups).
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { celeryAtLeast, clientResult, startWorker, type CeleryEnv } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

t.test('results written by a real Celery worker read through the gateway', async t => {
  const server = await startRedis(t)
  // Celery 5.2 has no global_keyprefix: the gateway reads Celery's own keys; the test Redis is private.
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '', RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const [plain, packed] = await Promise.all([
    startWorker(t, { redisPort: server.port }),
    startWorker(t, { redisPort: server.port, serializer: 'msgpack', extended: true, compression: 'gzip', expires: 'none' })
  ])
  const send = async (w: CeleryEnv, task: string, args: unknown[], id = randomUUID()) => {
    await clientResult(w, ['send', task, JSON.stringify(args), id])
    return id
  }
  const view = async (id: string) => (await app.inject(`/v1/results/${id}`)).json()

  t.test('SUCCESS wakes a waiter that started first, over a real socket', async t => {
    const id = randomUUID()
    const waiting = fetch(`${base}/v1/results/${id}/wait?timeoutSeconds=30`).then(r => r.json())
    await eventually(async () => app.waiter.stats.channels, n => n === 1, 'the waiter')
    await send(plain, 'add', [2, 3], id)
    const res = await waiting
    t.match(res, { timedOut: false, state: 'SUCCESS', result: { taskId: id, state: 'SUCCESS', ready: true, result: 5, error: null, traceback: null, children: [] } })
    if (await celeryAtLeast(5, 4)) {
      t.match(res.result.dateDone, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/, 'Celery 5.4+ writes an aware UTC date; its offset is kept')
    } else {
      t.match(res.result.dateDone, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'Celery 5.2 naive date as UTC')
    }
    t.same(await view(id), res.result, 'fetch and wait give the same view')
    const raw = await app.inject(`/v1/results/${id}/raw`)
    t.equal(raw.headers['content-type'], 'application/json')
    t.equal(raw.body, await redis.get(`celery-task-meta-${id}`), 'raw is the stored bytes')
    const ttl = await redis.ttl(`celery-task-meta-${id}`)
    t.ok(ttl <= 86400 && ttl > 86390, `Celery's default result_expires (TTL ${ttl})`)
  })

  t.test('built-in and custom exceptions decode to error objects', async t => {
    const [builtin, custom] = await Promise.all([send(plain, 'fail_builtin', []), send(plain, 'fail_custom', [])])
    const b = await eventually(() => view(builtin), v => v.state === 'FAILURE', 'fail_builtin')
    t.match(b, { ready: true, result: null, error: { type: 'ValueError', message: 'bad', module: 'builtins', args: ['bad'] } })
    t.match(b.traceback, /ValueError: bad/)
    const c = await eventually(() => view(custom), v => v.state === 'FAILURE', 'fail_custom')
    t.match(c, { error: { type: 'CustomError', module: 'tasks', args: ['custom failure', 42] } })
    t.match(c.traceback, /CustomError/)
  })

  t.test('custom PROGRESS state with its meta, then SUCCESS', async t => {
    const hold = `hold-${randomUUID()}`
    const id = await send(plain, 'progress', [hold])
    const p = await eventually(() => app.inject(`/v1/results/${id}`), r => r.statusCode === 200 && r.json().state === 'PROGRESS', 'PROGRESS')
    t.match(p.json(), { state: 'PROGRESS', ready: false, result: { current: 3, total: 10 }, dateDone: null })
    const waiting = app.inject(`/v1/results/${id}/wait?timeoutSeconds=30`)
    const broker = new Redis(server.port, '127.0.0.1', { db: 1 })
    t.teardown(() => broker.quit())
    await broker.set(hold, '1')
    t.match((await waiting).json(), { timedOut: false, state: 'SUCCESS', result: { result: 'released' } })
  })

  t.test('msgpack + result_extended + result_compression=gzip + result_expires=None', async t => {
    const id = await send(packed, 'add', [1, 2])
    const v = await eventually(() => app.inject(`/v1/results/${id}`), r => r.statusCode === 200 && r.json().state === 'SUCCESS', 'msgpack result')
    t.match(v.json(), { result: 3, name: 'tasks.add', args: [1, 2], kwargs: {}, retries: 0, queue: packed.queue, worker: `${packed.queue}@localhost` })
    const stored = await redis.getBuffer(`celery-task-meta-${id}`)
    t.equal(stored?.[0], 0x8c, 'a msgpack map of 12 fields (6 + extended), not gzip: Celery 5.2 stores it uncompressed')
    const raw = await app.inject(`/v1/results/${id}/raw`)
    t.equal(raw.headers['content-type'], 'application/msgpack')
    t.same(raw.rawPayload, stored)
    t.equal(await redis.ttl(`celery-task-meta-${id}`), -1, 'result_expires=None: no TTL')
  })

  t.test('a group saved by GroupResult.save() reads as group progress', async t => {
    const saved = await clientResult<{ id: string, children: string[] }>(plain, ['savegroup', JSON.stringify([[1, 1], [2, 2], [3, 3]])])
    const res = await app.inject(`/v1/groups/${saved.id}`)
    t.equal(res.statusCode, 200)
    t.match(res.json(), { saved: true, total: 3, completed: 3, failed: 0, allReady: true, successful: true })
    t.same(res.json().children.map((c: { taskId: string }) => c.taskId), saved.children)
  })

  t.test('a running chord reports its progress from Celery\'s own counters', async t => {
    const hold = `hold-${randomUUID()}`
    const started = await clientResult<{ group_id: string, body_id: string }>(plain, ['chord', hold])
    const progress = await eventually(async () => (await app.inject(`/v1/groups/${started.group_id}`)).json(), r => r.chord?.completed === 1, 'one of two header parts done')
    t.match(progress, { saved: false, chord: { total: 2, completed: 1 } })
    const broker = new Redis(server.port, '127.0.0.1', { db: 1 })
    t.teardown(() => broker.quit())
    await broker.set(hold, '1')
    const body = await eventually(() => view(started.body_id), v => v.state === 'SUCCESS', 'the chord body')
    t.same(body.result, [2, 'released'], 'the body got both header results')
  })
})
