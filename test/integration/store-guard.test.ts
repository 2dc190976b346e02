/**
 * The store's SUCCESS-is-final guard (src/redis/lua/storeResult-1.lua) on documents other writers leave: it
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
