import t from 'tap'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { buildTestApp } from '../helpers/app.js'
import { clientResult, startWorker } from '../helpers/celery.js'
import { startSentinelSet } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const COMMAND_TIMEOUT_MS = 1000

t.test('Sentinel: 1 master, 2 replicas, 3 sentinels; the gateway follows a failover by itself', async t => {
  const set = await startSentinelSet(t)
  const app = await buildTestApp(t, set.url, {
    RG_REDIS_SENTINEL_MASTER: set.masterName,
    RG_REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    RG_REDIS_CONNECT_TIMEOUT_MS: '500',
    RG_REDIS_DURABLE_TIMEOUT_MS: '600',
    RG_WAIT_MAX_SECONDS: '60'
  })
  const put = (id: string, body: unknown, query = '') => app.inject({ method: 'PUT', url: `/v1/results/${id}${query}`, headers: json, payload: JSON.stringify(body) })

  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready: the master is reachable through the sentinels')
  const stored = await put('s-1', { state: 'SUCCESS', result: 1 }, '?replicas=2')
  t.equal(stored.statusCode, 200, stored.body)
  t.same(stored.json().replicas, { requested: 2, acknowledged: 2 }, 'durable store: WAIT says both replicas have it')
  const asked = await put('s-1b', { state: 'SUCCESS', result: 1 }, '?replicas=3')
  t.equal(asked.statusCode, 503, 'more replicas than exist: refused at once (#24.4), nothing written')
  t.match(asked.json(), { code: 'RG_NOT_REPLICATED', detail: /2 connected replica\(s\), fewer than the 3/ })
  t.ok(asked.headers['retry-after'])
  const replica = new Redis({ port: set.replicas[0]?.port ?? 0, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null })
  replica.on('error', () => {})
  t.teardown(() => replica.disconnect())
  t.ok(await replica.exists(`${app.settings.redis.keyPrefix}celery-task-meta-s-1`), 'the replica holds the write')

  // A waiter established before the failover, answered after it.
  const waiting = app.inject('/v1/results/s-waiter/wait?timeoutSeconds=60')
  // Counted as a waiter at once, subscribed a moment later: the master is killed only once it holds the
  // SUBSCRIBE (the waiter's first read follows it at once), or the wait itself would meet the failover.
  const channel = `${app.settings.redis.keyPrefix}celery-task-meta-s-waiter`
  const master = new Redis({ port: set.master.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null })
  master.on('error', () => {})
  t.teardown(() => master.disconnect())
  await eventually(async () => Number((await master.pubsub('NUMSUB', channel) as [string, number])[1]), n => n === 1, 'the waiter is subscribed')
  await eventually(async () => app.waiter.stats.waiters, n => n === 1, 'the waiter is waiting')

  // The answer cache holds s-1 (read twice: admitted) before the failover.
  for (let i = 0; i < 2; i++) t.match((await app.inject('/v1/results/s-1')).json(), { result: 1 })
  t.ok(app.answers.size > 0, 'the answer cache holds s-1')

  const oldMaster = set.master.port
  const acknowledged: string[] = []
  const failures: Array<{ status: number, code: string, ms: number, retryAfter: boolean }> = []
  let firstFailureAt = 0
  let recoveredAt = 0
  const killedAt = Date.now()
  set.master.process.kill('SIGKILL')
  for (let i = 0; recoveredAt === 0 || Date.now() - recoveredAt < 1000; i++) {
    if (Date.now() - killedAt > 60_000) break
    const started = Date.now()
    const res = await put(`durable-${i}`, { state: 'SUCCESS', result: i }, '?replicas=1')
    const ms = Date.now() - started
    if (res.statusCode === 200) {
      acknowledged.push(`durable-${i}`)
      if (firstFailureAt !== 0 && recoveredAt === 0) recoveredAt = Date.now()
    } else {
      if (firstFailureAt === 0) firstFailureAt = started
      if (recoveredAt !== 0) recoveredAt = 0
      failures.push({ status: res.statusCode, code: String(res.json().code), ms, retryAfter: res.headers['retry-after'] !== undefined })
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.not(recoveredAt, 0, 'the gateway recovered by itself after the failover')
  const newMaster = await set.currentMasterPort()
  t.not(newMaster, oldMaster, 'the sentinels promoted a replica')
  t.ok(failures.length > 0, 'the failover was noticed')
  t.same([...new Set(failures.map(f => f.status))], [503], 'every request during the failover got a 503')
  t.ok(failures.every(f => f.retryAfter), 'each with Retry-After')
  const slowest = Math.max(...failures.map(f => f.ms))
  t.ok(slowest < COMMAND_TIMEOUT_MS + 3000, `no request hung past the timeouts (slowest 503 took ${slowest} ms)`)
  const codes = failures.reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.code]: (acc[f.code] ?? 0) + 1 }), {})
  t.comment(`sentinel failover: ${((recoveredAt - firstFailureAt) / 1000).toFixed(1)} s of 503s (${JSON.stringify(codes)}, slowest ${slowest} ms), ` +
    `recovered ${((recoveredAt - killedAt) / 1000).toFixed(1)} s after the kill; ${acknowledged.length} durable writes acknowledged`)

  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready again')
  // The answer cache was flushed and its tracking re-established on the new master: a write there by another
  // client is seen by the gateway's reads (the cached answer from the old master is gone).
  await eventually(async () => app.answers.live, live => live, 'the answer cache live on the new master')
  const onNew = new Redis({ port: newMaster, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null })
  onNew.on('error', () => {})
  t.teardown(() => onNew.disconnect())
  const s1 = `${app.settings.redis.keyPrefix}celery-task-meta-s-1`
  await app.inject('/v1/results/s-1')
  await app.inject('/v1/results/s-1')
  await onNew.set(s1, JSON.stringify({ status: 'SUCCESS', result: 2, traceback: null, children: [], date_done: null, task_id: 's-1' }))
  const after = await eventually(async () => (await app.inject('/v1/results/s-1')).json() as { result?: unknown }, v => v.result === 2, 'the write on the new master through the cache')
  t.match(after, { result: 2 }, 'no answer from before the failover is served')
  const missing: string[] = []
  for (const id of acknowledged) if ((await app.inject(`/v1/results/${id}`)).statusCode !== 200) missing.push(id)
  t.same(missing, [], `all ${acknowledged.length} writes acknowledged in durable mode are readable after the failover`)

  const woke = await put('s-waiter', { state: 'SUCCESS', result: 'after failover' })
  t.equal(woke.statusCode, 200)
  const waited = await waiting
  t.match(waited.json(), { timedOut: false, state: 'SUCCESS', result: { result: 'after failover' } }, `the waiter from before the failover is woken by a store on the new master (${waited.statusCode} ${waited.body.slice(0, 200)})`)
})

t.test('a real Celery worker writes through Sentinel (its own sentinel:// URL); the gateway reads and waits', async t => {
  const set = await startSentinelSet(t, { replicas: 1, sentinels: 1 })
  // Celery 5.2 has no global_keyprefix: the gateway reads Celery's own keys; this Redis is private to the test.
  const app = await buildTestApp(t, set.url, { RG_REDIS_SENTINEL_MASTER: set.masterName, RG_REDIS_KEY_PREFIX: '' })
  const worker = await startWorker(t, { redisPort: set.master.port, backend: set.url, masterName: set.masterName })
  const id = randomUUID()
  const waiting = app.inject(`/v1/results/${id}/wait?timeoutSeconds=60`)
  await eventually(async () => app.waiter.stats.channels, n => n === 1, 'the waiter is subscribed')
  await clientResult(worker, ['send', 'add', '[20, 22]', id])
  const waited = await waiting
  t.match(waited.json(), { timedOut: false, state: 'SUCCESS', result: { taskId: id, result: 42, ready: true } }, 'woken by the worker\'s PUBLISH on the master')
  t.match((await app.inject(`/v1/results/${id}`)).json(), { state: 'SUCCESS', result: 42 })
  const [read] = await clientResult<Array<{ state: string, result: unknown }>>(worker, ['read', id])
  t.match(read, { state: 'SUCCESS', result: 42 }, 'and Celery reads it back through its Sentinel backend')
})
