import t from 'tap'
import { Redis } from 'ioredis'
import { encode } from '@msgpack/msgpack'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const doc = (id: string, status: string, result: unknown) => JSON.stringify({ status, result, traceback: null, children: [], date_done: status === 'SUCCESS' ? '2026-11-24T22:35:40.781582' : null, task_id: id })

t.test('batch reads and waits, waiter limits, subscriber reconnects', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_BATCH_MAX_IDS: '5', RG_WAIT_MAX_WAITERS: '4', RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const celeryWrite = (id: string, status: string, result: unknown) => redis.pipeline().setex(key(id), 60, doc(id, status, result)).publish(key(id), doc(id, status, result)).exec()
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(payload) })

  t.test('batchGet: one entry per id, in order; unreadable values do not spoil the batch', async t => {
    await redis.set(key('b1'), doc('b1', 'SUCCESS', { n: 1 }))
    await redis.set(key('b2'), Buffer.from(encode({ status: 'PROGRESS', result: { n: 2 }, traceback: null, children: [], date_done: null, task_id: 'b2' })))
    await redis.set(key('b3'), Buffer.from('8004', 'hex'))
    const res = await post('/v1/results:batchGet', { taskIds: ['b3', 'missing', 'b2', 'b1'] })
    t.equal(res.statusCode, 200)
    const { results } = res.json()
    t.same(results.map((r: { taskId: string }) => r.taskId), ['b3', 'missing', 'b2', 'b1'])
    t.match(results[0], { found: true, result: null, error: { code: 'RG_UNSUPPORTED_SERIALIZER', detail: /pickle/ } })
    t.same(results[1], { taskId: 'missing', found: false, result: null, error: null })
    t.match(results[2], { found: true, error: null, result: { state: 'PROGRESS', result: { n: 2 }, ready: false } })
    t.match(results[3], { found: true, error: null, result: { state: 'SUCCESS', result: { n: 1 }, ready: true } })
  })

  t.test('batch limits and bad ids are 400 problems', async t => {
    for (const [what, body] of [
      ['too many', { taskIds: ['a', 'b', 'c', 'd', 'e', 'f'] }],
      ['duplicates', { taskIds: ['a', 'a'] }],
      ['empty', { taskIds: [] }],
      ['hostile id', { taskIds: ['ok', 'x*'] }],
      ['not a list', { taskIds: 'a' }]
    ] as const) {
      const res = await post('/v1/results:batchGet', body)
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().code, 'RG_INVALID_REQUEST', what)
    }
  })

  t.test('batchWait all: answers when every result is ready', async t => {
    const pending = post('/v1/results:batchWait', { taskIds: ['all-1', 'all-2', 'all-3'], timeoutSeconds: 20 })
    await until(() => app.waiter.stats.waiters === 3, 'three waiters')
    await celeryWrite('all-1', 'SUCCESS', 1)
    await celeryWrite('all-2', 'STARTED', null)
    await until(() => app.waiter.stats.waiters === 2, 'all-1 done, two still waiting')
    t.equal(app.waiter.stats.waiters, 2, 'STARTED did not end the all-2 wait')
    await celeryWrite('all-2', 'FAILURE', { exc_type: 'ValueError', exc_message: ['x'], exc_module: 'builtins' })
    await celeryWrite('all-3', 'SUCCESS', 3)
    const res = (await pending).json()
    t.match(res, { timedOut: false, interrupted: false })
    t.same(res.results.map((r: { state: string }) => r.state), ['SUCCESS', 'FAILURE', 'SUCCESS'])
    t.equal(app.waiter.stats.waiters, 0)
  })

  t.test('batchWait any: answers at the first ready result and releases the others', async t => {
    const pending = post('/v1/results:batchWait', { taskIds: ['any-1', 'any-2', 'any-3'], mode: 'any', timeoutSeconds: 20 })
    await until(() => app.waiter.stats.waiters === 3, 'three waiters')
    await celeryWrite('any-2', 'SUCCESS', 'second')
    const res = (await pending).json()
    t.match(res, { timedOut: false })
    t.match(res.results[1], { taskId: 'any-2', ready: true, state: 'SUCCESS', result: { result: 'second' } })
    t.match(res.results[0], { taskId: 'any-1', ready: false, state: 'PENDING', result: null })
    t.same(app.waiter.stats, { waiters: 0, channels: 0 })
  })

  t.test('batchWait timeout', async t => {
    const res = (await post('/v1/results:batchWait', { taskIds: ['never-1', 'never-2'], timeoutSeconds: 0.1 })).json()
    t.match(res, { timedOut: true, results: [{ state: 'PENDING', ready: false }, { state: 'PENDING', ready: false }] })
  })

  t.test('past RG_WAIT_MAX_WAITERS new waits get 503 + Retry-After', async t => {
    const held = post('/v1/results:batchWait', { taskIds: ['h1', 'h2', 'h3', 'h4'], timeoutSeconds: 20 })
    await until(() => app.waiter.stats.waiters === 4, 'four waiters')
    const refused = await app.inject('/v1/results/h5/wait?timeoutSeconds=1')
    t.equal(refused.statusCode, 503)
    t.equal(refused.headers['retry-after'], '1')
    t.equal(refused.json().code, 'RG_TOO_MANY_WAITERS')
    t.equal((await post('/v1/results:batchWait', { taskIds: ['h6'] })).statusCode, 503)
    for (const id of ['h1', 'h2', 'h3', 'h4']) await celeryWrite(id, 'SUCCESS', id)
    t.match((await held).json(), { timedOut: false })
  })

  t.test('a result published while the subscriber connection is down is still delivered', async t => {
    const pending = app.inject('/v1/results/outage/wait?timeoutSeconds=20')
    await until(() => app.waiter.stats.channels === 1 && app.redisSubscriber.status === 'ready', 'the waiter')
    await new Promise(resolve => setTimeout(resolve, 50))
    // Drop the gateway's pub/sub connection, then publish while it reconnects: the message is lost,
    // and only the re-read on reconnect can deliver it (the safety-net poll is 10 minutes here).
    await redis.client('KILL', 'TYPE', 'pubsub')
    await celeryWrite('outage', 'SUCCESS', 'after the outage')
    t.match((await pending).json(), { timedOut: false, state: 'SUCCESS', result: { result: 'after the outage' } })
  })
})
