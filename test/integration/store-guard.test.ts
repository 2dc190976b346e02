/**
 * The store's SUCCESS-is-final guard (src/redis/lua/storeResults-n.lua) on documents other writers leave: it
 * refuses exactly when a JSON or msgpack reader would see status SUCCESS. Its fast path (the leading "status"
 * key decides, without decoding the whole document) must never disagree with a full decode: duplicate keys,
 * a key spelled with \u escapes, "status" inside a value, Celery's spaced format and a broken document.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { encode } from '@msgpack/msgpack'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const json = { 'content-type': 'application/json' }
const rows = JSON.stringify({ rows: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `row-${i}` })) })

t.test('the SUCCESS-is-final guard agrees with a full decode', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const cases: Array<[string, string | Buffer, 'refused' | 'stored']> = [
    ['Celery\'s own SUCCESS (spaced)', `{"status": "SUCCESS", "result": ${rows}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}`, 'refused'],
    ['compact SUCCESS', `{"status":"SUCCESS","result":${rows}}`, 'refused'],
    ['Celery\'s STARTED (spaced)', '{"status": "STARTED", "result": {"pid": 1}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}', 'stored'],
    ['PROGRESS with a large result', `{"status": "PROGRESS", "result": ${rows}}`, 'stored'],
    ['a custom state with digits and dashes', '{"status": "STAGE-2_OF_3", "result": null}', 'stored'],
    ['PROGRESS first, a later duplicate status SUCCESS (readers keep the last)', `{"status": "PROGRESS", "result": ${rows}, "status": "SUCCESS"}`, 'refused'],
    ['PROGRESS first, SUCCESS under a \\u-escaped key', '{"status": "PROGRESS", "result": 1, "st\\u0061tus": "SUCCESS"}', 'refused'],
    ['PROGRESS whose result mentions "status"', '{"status": "PROGRESS", "result": {"text": "\\"status\\": \\"SUCCESS\\""}}', 'stored'],
    ['status not the first key', `{"result": ${rows}, "status": "SUCCESS"}`, 'refused'],
    ['status not the first key, not final', `{"result": ${rows}, "status": "RETRY"}`, 'stored'],
    ['a broken document that starts like a SUCCESS', '{"status": "SUCCESS", "result": [1, 2', 'stored'],
    ['status SUCCESS as a non-string', '{"status": ["SUCCESS"], "result": 1}', 'stored'],
    ['msgpack SUCCESS', Buffer.from(encode({ status: 'SUCCESS', result: 1 })), 'refused'],
    ['msgpack STARTED', Buffer.from(encode({ status: 'STARTED', result: 1 })), 'stored']
  ]
  for (const [i, [what, stored, expected]] of cases.entries()) {
    const id = `guard-${i}`
    const key = `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
    await redis.set(key, stored)
    const res = await app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'FAILURE', error: { type: 'RuntimeError', message: 'late' } } })
    const after = await redis.getBuffer(key)
    if (expected === 'refused') {
      t.equal(res.statusCode, 409, `${what}: refused`)
      t.same(after, Buffer.from(stored), `${what}: untouched`)
    } else {
      t.equal(res.statusCode, 200, `${what}: stored`)
      t.match(after?.toString(), /^\{"status":"FAILURE"/, `${what}: replaced`)
    }
  }
})

t.test('#24.3 a retried store: the same final document (but date_done) answers 200 applied:false alreadyStored; a different one 409', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const put = (id: string, doc: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(doc) })
  const doc = { state: 'SUCCESS', result: { rows: [1, 2.5, 'x', null, { a: true }] }, children: ['c-1'], name: 'tasks.add', args: [1, 2], retries: 0 }
  t.equal((await put('retry-1', doc)).statusCode, 200, 'the first store')
  const key = `${app.settings.redis.keyPrefix}celery-task-meta-retry-1`
  const stored = await redis.getBuffer(key)
  await new Promise(resolve => setTimeout(resolve, 1100)) // a new date_done (Celery's timestamps have microseconds, but be sure)
  const again = await put('retry-1', doc)
  t.equal(again.statusCode, 200, `the same document again: 200 (got ${again.statusCode} ${again.body})`)
  t.match(again.json(), { taskId: 'retry-1', state: 'SUCCESS', applied: false, alreadyStored: true, published: 0 }, 'applied: false, already stored')
  t.same(await redis.getBuffer(key), stored, 'the stored document (its date_done too) is untouched')
  t.equal((await put('retry-1', { ...doc, dateDone: '2020-01-01T00:00:00Z' })).statusCode, 200, 'a different date_done is still the same result')
  for (const [what, other] of [
    ['another result', { ...doc, result: { rows: [1, 2.5, 'x', null, { a: false }] } }],
    ['another state', { state: 'FAILURE', error: { type: 'ValueError', message: 'x' } }],
    ['other children', { ...doc, children: [] }],
    ['a given extended field that differs', { ...doc, retries: 1 }],
    ['an extended field given that was not stored', { ...doc, queue: 'celery' }],
    ['a traceback', { ...doc, traceback: 'Traceback' }]
  ] as const) {
    const res = await put('retry-1', other)
    t.equal(res.statusCode, 409, `${what}: 409 result-final`)
  }
  // What Celery itself wrote (spaced JSON, its own date_done), re-sent through the gateway.
  const celeryKey = `${app.settings.redis.keyPrefix}celery-task-meta-retry-2`
  await redis.set(celeryKey, '{"status": "SUCCESS", "result": 3, "traceback": null, "children": [], "date_done": "2026-01-01T00:00:00.123456", "task_id": "retry-2"}')
  t.match((await put('retry-2', { state: 'SUCCESS', result: 3 })).json(), { applied: false, alreadyStored: true }, 'a Celery-written SUCCESS with the same result: already stored')
  t.equal((await put('retry-2', { state: 'SUCCESS', result: 4 })).statusCode, 409, 'and a different result: 409')
})
