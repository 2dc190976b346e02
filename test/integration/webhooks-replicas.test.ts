/**
 * At least once across replicas: two gateway processes share one queue; results are written the way a Celery worker
 * writes them (SET + PUBLISH, heard by both, enqueued once), one gateway is SIGKILLed mid-run, and every result is
 * still delivered by the other after the visibility timeout. Duplicates (attempts the killed one had sent) are reported.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { freePort } from '../../src/redis/spawn.js'
import { testConfig } from '../helpers/app.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'
import { until } from '../helpers/until.js'

const RESULTS = 80

t.test('two replicas, one SIGKILLed mid-run: every result delivered', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  // Slow enough answers that the kill lands with deliveries in flight and queued.
  receiver.respond((_r, _n, res) => { setTimeout(() => { res.statusCode = 200; res.end() }, 150) })
  const prefix = `r${randomBytes(4).toString('hex')}:`
  const env = {
    RG_REDIS_URL: redis.url,
    RG_REDIS_KEY_PREFIX: prefix,
    RG_AUTH_DISABLED: 'true',
    RG_LOG_LEVEL: 'info',
    RG_WEBHOOK_SECRET: newSecret(),
    RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort,
    RG_WEBHOOK_TIMEOUT_MS: '1000',
    RG_WEBHOOK_VISIBILITY_TIMEOUT_MS: '2000',
    RG_WEBHOOK_RETRY_BASE_MS: '100',
    RG_WEBHOOK_CONCURRENCY_PER_TARGET: '2'
  }
  // The standing webhook exists before the replicas start, so both know it from their first read.
  const setup = await buildApp(testConfig(redis.url, env))
  await setup.ready()
  t.equal((await setup.inject({ method: 'PUT', url: '/v1/admin/webhooks/all', payload: { url: `${receiver.base}/all` } })).statusCode, 200)
  await setup.close()

  const [portA, portB] = [await freePort(), await freePort()]
  const a = runServer(t, { ...env, RG_HTTP_PORT: String(portA) })
  const b = runServer(t, { ...env, RG_HTTP_PORT: String(portB) })
  await Promise.all([a.listening(), b.listening()])
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  // NUMPAT counts distinct patterns; each replica's subscriber connection shows psub=1 in CLIENT LIST.
  const watching = async (): Promise<number> => String(await admin.client('LIST')).split('\n').filter(l => / psub=1 /.test(l)).length
  await until(async () => (await watching()) === 2, 'both replicas to watch the result channels', 60_000)

  const ids = Array.from({ length: RESULTS }, () => randomUUID())
  for (const id of ids) {
    const doc = JSON.stringify({ status: 'SUCCESS', result: id, traceback: null, children: [], date_done: new Date().toISOString(), task_id: id })
    const key = `${prefix}celery-task-meta-${id}`
    await admin.multi().set(key, doc, 'EX', 3600).publish(key, doc).exec()
  }
  await until(() => receiver.received.length >= 10, 'the first deliveries')
  a.child.kill('SIGKILL')
  await a.exited
  const killedAt = receiver.received.length
  t.ok(killedAt < RESULTS, `killed mid-run: ${killedAt} of ${RESULTS} received`)

  const delivered = (): Set<string> => new Set(receiver.received.map(r => JSON.parse(r.body).data.taskId as string))
  await until(() => delivered().size === RESULTS, 'every result delivered after the kill', 90_000)
  t.same([...delivered()].sort(), [...ids].sort(), 'every result delivered')
  const duplicates = receiver.received.length - RESULTS
  const byId = new Map<string, Set<string>>()
  for (const r of receiver.received) {
    const id = JSON.parse(r.body).data.taskId as string
    byId.set(id, (byId.get(id) ?? new Set()).add(String(r.headers['webhook-id'])))
  }
  t.ok([...byId.values()].every(s => s.size === 1), 'a duplicate carries the same webhook-id (receivers de-duplicate on it)')
  t.comment(`deliveries ${receiver.received.length} for ${RESULTS} results: ${duplicates} duplicates (received before the kill: ${killedAt})`)
  await until(async () => (await admin.xlen(`${prefix}{rg-webhook}:queue`)) === 0, 'the queue to drain')
  const [pending] = await admin.xpending(`${prefix}{rg-webhook}:queue`, 'result-gateway') as [number]
  t.equal(pending, 0, 'nothing is left pending for the killed consumer: the survivor took its entries over')
})
