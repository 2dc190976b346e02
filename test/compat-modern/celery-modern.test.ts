/**
 * What only Celery ≥ 5.5 writes, both directions: global_keyprefix (5.3+) against RG_REDIS_KEY_PREFIX, date_done
 * with the offset of a non-UTC app timezone (5.5+), children: null; every built-in state written through Celery's
 * own backend API; result_extended, groups and chords under the prefix.
 * Not part of `npm test` (Debian's Celery is 5.2): `npm run test:celery` runs it with RG_TEST_CELERY_PATH.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { celeryAtLeast, celeryVersion, client, clientResult, startWorker, type CeleryEnv } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, until } from '../helpers/until.js'

// No daylight saving time: the offset Celery writes is the same whatever the date.
const TIMEZONE = 'Asia/Kolkata'
const OFFSET = '+05:30'
const json = { 'content-type': 'application/json' }

t.test('Celery ≥ 5.5 with global_keyprefix and a non-UTC timezone, both directions', async t => {
  if (!(await celeryAtLeast(5, 5))) {
    throw new Error(`these tests need Celery ≥ 5.5, found ${(await celeryVersion()).join('.')}: ` +
      'run them as `RG_TEST_CELERY_PATH=<celery 5.6 site folder> npm run test:celery` (docs/celery.md)')
  }
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: 'app56', RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const celery: CeleryEnv = { redisPort: server.port, keyPrefix: 'app56', timezone: TIMEZONE }
  const key = (id: string) => `app56_celery-task-meta-${id}`
  const view = async (id: string) => (await app.inject(`/v1/results/${id}`)).json()
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })

  t.test('every built-in state, written by Celery\'s backend, reads through the gateway under the prefix', async t => {
    const cases: Array<[string, unknown, Record<string, unknown>]> = [
      ['SUCCESS', { a: 1 }, { ready: true, result: { a: 1 }, error: null, children: [] }],
      ['FAILURE', 'bad', { ready: true, result: null, error: { type: 'ValueError', message: 'bad', module: 'builtins' } }],
      ['RETRY', 'again', { ready: false, error: { type: 'RuntimeError', message: 'again' } }],
      ['REVOKED', 'stopped', { ready: true, error: { type: 'TaskRevokedError', message: 'stopped' } }],
      ['STARTED', { pid: 7, hostname: 'w1' }, { ready: false, result: { pid: 7, hostname: 'w1' } }],
      ['PROGRESS', { current: 1, total: 4 }, { ready: false, result: { current: 1, total: 4 }, dateDone: null }]
    ]
    for (const [state, value, expected] of cases) {
      const id = randomUUID()
      await clientResult(celery, ['mark', id, state, JSON.stringify(value)])
      t.equal(await redis.exists(key(id)), 1, `${state}: Celery wrote ${key(id)}`)
      const v = await view(id)
      t.match(v, { taskId: id, state, ...expected }, `${state} view`)
      if (v.dateDone !== null) {
        t.match(v.dateDone, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\${OFFSET}$`), `${state}: RFC 3339 with the app's offset`)
        t.ok(Math.abs(Date.parse(v.dateDone) - Date.now()) < 600_000, `${state}: ${v.dateDone} is the instant Celery stored`)
      }
    }
    const stored = JSON.parse(await redis.get(key((await clientResult<{ stored: string }>(celery, ['mark', randomUUID(), 'SUCCESS', '1'])).stored)) ?? '{}')
    t.equal(stored.children, null, 'Celery ≥ 5.5 stores children: null (shown as [])')
  })

  t.test('a prefixed worker wakes a gateway waiter; result_extended reads', async t => {
    const worker = await startWorker(t, { ...celery, extended: true })
    const id = randomUUID()
    const waiting = fetch(`${base}/v1/results/${id}/wait?timeoutSeconds=30`).then(r => r.json())
    await until(() => app.waiter.stats.channels === 1, 'the waiter')
    await clientResult(worker, ['send', 'add', '[2, 3]', id])
    const res = await waiting
    t.match(res, { timedOut: false, state: 'SUCCESS', result: { result: 5, name: 'tasks.add', args: [2, 3], kwargs: {}, queue: worker.queue } })
    t.match(res.result.dateDone, new RegExp(`\\${OFFSET}$`))
  })

  t.test('what the gateway writes under the prefix, Celery reads; a waiting get() is woken by it', async t => {
    const id = randomUUID()
    t.equal((await put(id, { state: 'FAILURE', error: { type: 'ValueError', message: 'nope' } })).statusCode, 200)
    t.equal(await redis.exists(key(id)), 1)
    const [r] = await clientResult<Array<Record<string, unknown>>>(celery, ['read', id])
    t.match(r, { state: 'FAILURE', exc_type: 'ValueError', exc_args: ['nope'], exc_is_value_error: true })
    t.match(r?.date_done, /[+-]\d\d:\d\d$/, 'Celery parses the gateway\'s aware date')

    const other = randomUUID()
    const waiting = client(celery, ['get', other, '30'])
    t.same((await waiting.lines.next()).value, { waiting: true })
    await until(async () => ((await redis.pubsub('NUMSUB', key(other))) as [string, number])[1] > 0, 'Celery\'s subscription on the prefixed channel')
    const stored = await put(other, { state: 'SUCCESS', result: { woken: true } })
    t.ok(stored.json().published >= 1, 'the PUBLISH reached Celery\'s subscriber')
    t.match((await waiting.done).at(-1), { state: 'SUCCESS', get: { woken: true } })
  })

  t.test('groups and chords under the prefix', async t => {
    const worker = await startWorker(t, celery)
    const saved = await clientResult<{ id: string, children: string[] }>(worker, ['savegroup', JSON.stringify([[1, 1], [2, 2]])])
    t.equal(await redis.exists(`app56_celery-taskset-meta-${saved.id}`), 1)
    const group = await app.inject(`/v1/groups/${saved.id}`)
    t.match(group.json(), { saved: true, total: 2, completed: 2, allReady: true, successful: true })
    const hold = `hold-${randomUUID()}`
    const started = await clientResult<{ group_id: string, body_id: string }>(worker, ['chord', hold])
    const progress = await eventually(async () => (await app.inject(`/v1/groups/${started.group_id}`)).json(), r => r.chord?.completed === 1, 'one of two header parts done')
    t.match(progress, { saved: false, chord: { total: 2, completed: 1 } })
    const broker = new Redis(server.port, '127.0.0.1', { db: 1 })
    t.teardown(() => broker.quit())
    await broker.set(hold, '1')
    const body = await eventually(() => view(started.body_id), v => v.state === 'SUCCESS', 'the chord body')
    t.same(body.result, [2, 'released'])
  })
})
