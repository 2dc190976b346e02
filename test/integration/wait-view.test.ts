/**
 * The wait answer is built from the published bytes by the fetch route's fast view (and its full-path
 * fallback): the document must be exactly what the WaitResponse schema serialized before — the result member
 * equal to what GET /v1/results/{id} answers, for every kind of stored document.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { encode } from '@msgpack/msgpack'
import { waitForResult } from '../../src/celery/wait-result.js'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const docs: Array<[string, Record<string, unknown>, 'json' | 'msgpack']> = [
  ['nested', { status: 'SUCCESS', result: { rows: [{ id: 1, name: 'é ✓ 😀', score: 1.5 }], s: 'a"b\\c\n' }, traceback: null, children: [['c1', null]], date_done: '2026-11-24T22:35:40.781582', parent_id: 'p', group_id: 'g', name: 'tasks.add', args: [1, 'x'], kwargs: { k: [null] }, worker: 'w@h', retries: 0, queue: 'q' }, 'json'],
  ['scalar', { status: 'SUCCESS', result: 7, traceback: null, children: [], date_done: null }, 'json'],
  ['failure', { status: 'FAILURE', result: { exc_type: 'ValueError', exc_message: ['bad'], exc_module: 'builtins' }, traceback: 'tb', children: [], date_done: '2026-11-24T22:35:45.636455' }, 'json'],
  ['revoked-msgpack', { status: 'REVOKED', result: { exc_type: 'TaskRevokedError', exc_message: ['revoked'], exc_module: 'celery.exceptions' }, traceback: null, children: [], date_done: '2026-11-24T22:35:45.636455' }, 'msgpack'],
  // kombu's typed wrapper: the fast view declines it, the full path decodes it.
  ['kombu-typed', { status: 'SUCCESS', result: { __type__: 'datetime', __value__: '2026-11-24T22:35:40' }, traceback: null, children: [], date_done: null }, 'json']
]

t.test('wait answers equal the schema-serialized WaitResponse', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const bytes = (id: string, doc: Record<string, unknown>, enc: 'json' | 'msgpack'): Buffer =>
    Buffer.from(enc === 'msgpack' ? encode({ ...doc, task_id: id }) : JSON.stringify({ ...doc, task_id: id }))

  for (const [id, doc, enc] of docs) {
    t.test(`${id}: woken by PUBLISH, and read when already stored`, async t => {
      const pending = fetch(`${base}/v1/results/${id}/wait?timeoutSeconds=20`)
      await until(() => app.waiter.stats.waiters === 1, 'the waiter')
      const raw = bytes(id, doc, enc)
      await redis.pipeline().setex(key(id), 300, raw).publish(key(id), raw).exec()
      const woken = await pending
      t.equal(woken.status, 200)
      t.match(woken.headers.get('content-type'), /^application\/json/)
      const wokenBody = await woken.json() as Record<string, unknown>
      const fetched = await (await fetch(`${base}/v1/results/${id}`)).json() as { state: string }
      t.same(wokenBody, { timedOut: false, interrupted: false, state: fetched.state, result: fetched })
      // The object path the route used before (batch and group waits still do), as JSON.
      const objectPath = await waitForResult(app.results, app.views, app.waiter, id, 0)
      t.same(wokenBody, JSON.parse(JSON.stringify(objectPath)))
      const again = await (await fetch(`${base}/v1/results/${id}/wait?timeoutSeconds=0`)).json()
      t.same(again, wokenBody, 'an already-ready result reads the same')
    })
  }

  t.test('timeout with a non-ready state, and nothing stored', async t => {
    const raw = bytes('prog', { status: 'PROGRESS', result: { current: 3 }, traceback: null, children: [], date_done: null }, 'json')
    await redis.setex(key('prog'), 300, raw)
    const prog = await (await fetch(`${base}/v1/results/prog/wait?timeoutSeconds=0.1`)).json() as Record<string, unknown>
    const fetched = await (await fetch(`${base}/v1/results/prog`)).json()
    t.same(prog, { timedOut: true, interrupted: false, state: 'PROGRESS', result: fetched })
    t.same(await (await fetch(`${base}/v1/results/none/wait?timeoutSeconds=0.1`)).json(), { timedOut: true, interrupted: false, state: 'PENDING', result: null })
  })
})
