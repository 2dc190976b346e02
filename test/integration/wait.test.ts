import { request } from 'node:http'
import t from 'tap'
import { Redis } from 'ioredis'
import { encode } from '@msgpack/msgpack'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }

t.test('wait over a real socket', async t => {
  const server = await startRedis(t)
  // A long safety-net poll: every wake-up below must come from pub/sub.
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000', RG_WAIT_MAX_SECONDS: '30' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const wait = async (id: string, timeoutSeconds = 20) => {
    const res = await fetch(`${base}/v1/results/${id}/wait?timeoutSeconds=${timeoutSeconds}`)
    return { status: res.status, body: await res.json() as Record<string, unknown> & { result: Record<string, unknown> | null } }
  }
  const celeryWrite = (id: string, doc: Record<string, unknown>, encoding: 'json' | 'msgpack' = 'json') => {
    // What Celery's backend does: SETEX then PUBLISH on the key name, in one pipeline.
    const bytes = encoding === 'json' ? Buffer.from(JSON.stringify({ ...doc, task_id: id })) : Buffer.from(encode({ ...doc, task_id: id }))
    return redis.pipeline().setex(key(id), 86400, bytes).publish(key(id), bytes).exec()
  }

  t.test('a ready result answers at once', async t => {
    await app.inject({ method: 'PUT', url: '/v1/results/done', headers: json, payload: { state: 'SUCCESS', result: 7 } })
    const { status, body } = await wait('done')
    t.equal(status, 200, JSON.stringify(body))
    t.match(body, { timedOut: false, interrupted: false, state: 'SUCCESS', result: { result: 7, ready: true } })
  })

  t.test('woken by a gateway store', async t => {
    const pending = wait('w-gw')
    // A wait refused at once (say 503) must fail here with its answer, not after until()'s deadline.
    await Promise.race([until(() => app.waiter.stats.waiters === 1, 'the waiter'), pending.then(r => { throw new Error(`answered before waiting: ${r.status} ${JSON.stringify(r.body)}`) })])
    await app.inject({ method: 'PUT', url: '/v1/results/w-gw', headers: json, payload: { state: 'SUCCESS', result: 'hi' } })
    t.match((await pending).body, { timedOut: false, state: 'SUCCESS', result: { result: 'hi' } })
  })

  t.test('woken by Celery-style SETEX + PUBLISH, json and msgpack; non-ready states do not end the wait', async t => {
    const a = wait('w-json')
    const b = wait('w-mp')
    await until(() => app.waiter.stats.waiters === 2, 'two waiters')
    await celeryWrite('w-json', { status: 'STARTED', result: { pid: 1 }, traceback: null, children: [], date_done: null })
    await celeryWrite('w-json', { status: 'PROGRESS', result: { current: 1 }, traceback: null, children: [], date_done: null })
    t.equal(app.waiter.stats.waiters, 2, 'still waiting after STARTED and PROGRESS')
    await celeryWrite('w-json', { status: 'FAILURE', result: { exc_type: 'ValueError', exc_message: ['bad'], exc_module: 'builtins' }, traceback: 'tb', children: [], date_done: '2026-11-24T22:35:45.636455' })
    await celeryWrite('w-mp', { status: 'REVOKED', result: { exc_type: 'TaskRevokedError', exc_message: ['revoked'], exc_module: 'celery.exceptions' }, traceback: null, children: [], date_done: '2026-11-24T22:35:45.636455' }, 'msgpack')
    t.match((await a).body, { timedOut: false, state: 'FAILURE', result: { error: { type: 'ValueError', message: 'bad' }, dateDone: '2026-11-24T22:35:45.636455Z' } })
    t.match((await b).body, { timedOut: false, state: 'REVOKED', result: { ready: true, error: { type: 'TaskRevokedError' } } })
  })

  t.test('timeout answers with the current state; never-seen ids are PENDING with result null', async t => {
    await celeryWrite('w-prog', { status: 'PROGRESS', result: { current: 3, total: 10 }, traceback: null, children: [], date_done: null })
    t.match((await wait('w-prog', 0.2)).body, { timedOut: true, state: 'PROGRESS', result: { result: { current: 3 }, ready: false } })
    t.same((await wait('never-seen', 0.2)).body, { timedOut: true, interrupted: false, state: 'PENDING', result: null })
    t.match((await wait('w-prog', 0)).body, { timedOut: true, state: 'PROGRESS' }, 'timeout 0 reads once')
  })

  t.test('the timeout is capped by RG_WAIT_MAX_SECONDS', async t => {
    const capped = await buildTestApp(t, server.url, { RG_WAIT_MAX_SECONDS: '0.3', RG_WAIT_DEFAULT_SECONDS: '0.1' })
    const res = await capped.inject('/v1/results/cap/wait?timeoutSeconds=3600')
    t.match(res.json(), { timedOut: true, state: 'PENDING' })
    const bad = await capped.inject('/v1/results/cap/wait?timeoutSeconds=-1')
    t.equal(bad.statusCode, 400)
  })

  t.test('race: many waiters, results written at the same instant; none is missed', async t => {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${i}`)
    const waits = ids.map(id => wait(id))
    // Writes start while waiters are still subscribing and re-reading: each must be caught by one or the other.
    await Promise.all(ids.map((id, i) => celeryWrite(id, { status: 'SUCCESS', result: i, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582' })))
    const answers = await Promise.all(waits)
    t.equal(answers.filter(a => a.body.timedOut === false && a.body.state === 'SUCCESS').length, ids.length, 'every waiter got its result')
    t.same(answers.map(a => a.body.result?.result), ids.map((_, i) => i))
  })

  t.test('waiters arriving together share a few SUBSCRIBE commands', async t => {
    const subscribes = async () => Number(/^result_gateway_redis_command_duration_seconds_count\{command="subscribe"\} (\d+)$/m.exec((await app.inject('/metrics')).body)?.[1] ?? 0)
    const before = await subscribes()
    const ids = Array.from({ length: 500 }, (_, i) => `herd-${i}`)
    // The longest wait the app allows: on a loaded machine, 500 waiters take a while to subscribe.
    const waits = ids.map(id => app.inject(`/v1/results/${id}/wait?timeoutSeconds=30`))
    await until(async () => (await redis.pubsub('NUMSUB', key('herd-499')) as [string, number])[1] === 1, 'subscriptions')
    const after = await subscribes()
    t.ok(after - before <= 20, `${after - before} SUBSCRIBE commands for 500 waiters`)
    const pipe = redis.pipeline()
    for (const id of ids) pipe.set(key(id), JSON.stringify({ status: 'SUCCESS', result: id, traceback: null, children: [], date_done: null, task_id: id })).publish(key(id), 'x')
    await pipe.exec()
    const answers = await Promise.all(waits)
    const seen = new Map<string, number>()
    for (const a of answers) {
      const k = `${a.statusCode} ${String(a.json().state ?? a.json().code)}`
      seen.set(k, (seen.get(k) ?? 0) + 1)
    }
    t.same([...seen], [['200 SUCCESS', 500]], 'every herd waiter answered with its result')
  })

  t.test('no waiter, listener or subscription is left behind; client disconnects release at once', async t => {
    const gone = request(`${base}/v1/results/abandoned/wait?timeoutSeconds=20`)
    gone.on('error', () => {})
    gone.end()
    await until(() => app.waiter.stats.waiters === 1, 'the waiter')
    gone.destroy()
    await until(() => app.waiter.stats.waiters === 0, 'release on disconnect')
    t.same(app.waiter.stats, { waiters: 0, channels: 0 })
    await until(async () => (await redis.pubsub('CHANNELS', `${app.settings.redis.keyPrefix}*`) as string[]).length === 0, 'unsubscribe')
    t.same(await redis.pubsub('CHANNELS', `${app.settings.redis.keyPrefix}*`), [], 'Redis holds no subscription')
    t.equal(app.redisSubscriber.listenerCount('messageBuffer'), 1, 'one shared message listener')
  })

  t.test('shutdown answers every waiter (interrupted) instead of dropping it', async t => {
    const closing = await buildTestApp(t, server.url)
    const url = await closing.listen({ host: '127.0.0.1', port: 0 })
    const waits = [1, 2, 3].map(i => fetch(`${url}/v1/results/shut-${i}/wait?timeoutSeconds=20`).then(r => r.json()))
    await until(() => closing.waiter.stats.waiters === 3, 'three waiters').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${closing.waiter.stats.waiters} waiting; ${JSON.stringify(await Promise.race([Promise.all(waits), new Promise(resolve => setTimeout(() => resolve('pending'), 100))]))}`)
    })
    const started = Date.now()
    await closing.close()
    for (const body of await Promise.all(waits)) t.match(body, { interrupted: true, timedOut: false, state: 'PENDING' })
    // Not a timing threshold: the keep-alive timeout is 72 s, and a lingering keep-alive connection waits all of it.
    t.ok(Date.now() - started < 30_000, 'close does not wait out the keep-alive timeout of the answered waiters')
  })
})

t.test('the safety-net sweep finds results written without a PUBLISH, re-reading each waiter about once per interval', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '400', RG_WAIT_MAX_SECONDS: '30' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const gets = async () => Number(/cmdstat_get:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0)
  const waits = Array.from({ length: 40 }, (_, i) => app.inject(`/v1/results/quiet-${i}/wait?timeoutSeconds=20`))
  await until(() => app.waiter.stats.waiters === 40, 'the waiters')
  const before = await gets()
  const t0 = Date.now()
  await new Promise(resolve => setTimeout(resolve, 2000))
  const perWaiter = (await gets() - before) / 40
  const rounds = (Date.now() - t0) / 400
  t.ok(perWaiter >= 1 && perWaiter <= rounds + 1, `each waiter re-read ${perWaiter} times in ${rounds} intervals`)
  // A writer that SETs and never PUBLISHes (not Celery, but it happens): found by the sweep.
  for (let i = 0; i < 40; i++) await redis.set(key(`quiet-${i}`), JSON.stringify({ status: 'SUCCESS', result: i, traceback: null, children: [], date_done: null, task_id: `quiet-${i}` }))
  const answers = await Promise.all(waits)
  t.ok(answers.every((r, i) => r.statusCode === 200 && r.json().timedOut === false && r.json().result.result === i), 'every waiter answered with its result')
  t.equal(app.waiter.stats.waiters, 0)
})
