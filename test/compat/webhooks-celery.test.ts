/**
 * Results written by a real Celery worker reach webhooks: a per-task one and standing ones (every result under the
 * prefix), SUCCESS and FAILURE delivered, STARTED and PROGRESS not; standing counters; 410 removes a standing webhook.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { clientResult, startWorker } from '../helpers/celery.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, until } from '../helpers/until.js'

t.test('a real Celery worker\'s results are delivered to per-task and standing webhooks', async t => {
  const server = await startRedis(t)
  const receiver = await startReceiver(t)
  receiver.respond((req, _n, res) => { res.statusCode = req.path === '/gone' ? 410 : 200; res.end() })
  // Celery 5.2 has no global_keyprefix: the gateway reads Celery's own keys; the test Redis is private.
  const app = await buildTestApp(t, server.url, {
    RG_REDIS_KEY_PREFIX: '',
    RG_WEBHOOK_SECRET: newSecret(),
    RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort
  })
  const worker = await startWorker(t, { redisPort: server.port })
  const broker = new Redis(server.port, '127.0.0.1', { db: 1 })
  t.teardown(() => broker.quit())
  const standing = await app.inject({ method: 'PUT', url: '/v1/admin/webhooks/all', payload: { url: `${receiver.base}/standing` } })
  t.equal(standing.statusCode, 200, standing.body)
  t.match(standing.json(), { name: 'all', keyPrefix: '', states: ['SUCCESS', 'FAILURE', 'REVOKED'], delivered: 0, failed: 0, pending: 0 })
  const [added, failed, slow] = [randomUUID(), randomUUID(), randomUUID()]
  const perTask = await app.inject({ method: 'PUT', url: `/v1/results/${added}/webhook`, payload: { url: `${receiver.base}/task` } })
  t.equal(perTask.statusCode, 200)

  const hold = `hold-${randomUUID()}`
  await clientResult(worker, ['send', 'add', '[2, 3]', added])
  await clientResult(worker, ['send', 'fail_builtin', '[]', failed])
  await clientResult(worker, ['send', 'progress', JSON.stringify([hold]), slow])
  await eventually(async () => (await app.inject(`/v1/results/${slow}`)).json(), v => v.state === 'PROGRESS', 'the PROGRESS update')
  await broker.set(hold, '1')
  await until(() => receiver.received.filter(r => r.path === '/standing').length >= 3, 'three standing deliveries')

  const states = (path: string) => receiver.received.filter(r => r.path === path).map(r => {
    const { data } = JSON.parse(r.body)
    return `${data.taskId as string} ${data.state as string}`
  }).sort()
  t.same(states('/standing'), [`${added} SUCCESS`, `${failed} FAILURE`, `${slow} SUCCESS`].sort(), 'ready states only: no STARTED, no PROGRESS')
  await until(() => receiver.received.some(r => r.path === '/task'), 'the per-task delivery')
  t.same(states('/task'), [`${added} SUCCESS`])
  const failure = receiver.received.find(r => r.path === '/standing' && r.body.includes(failed))
  t.match(JSON.parse(failure?.body ?? '{}').data, { state: 'FAILURE', error: { type: 'ValueError', message: 'bad' } }, 'the view as GET answers it')
  t.match((await app.inject(`/v1/results/${added}/webhook`)).json(), { status: 'delivered', attempts: 1, lastStatusCode: 200 })
  const list = await eventually(async () => (await app.inject('/v1/admin/webhooks')).json(), l => l.webhooks[0]?.delivered === 3, 'the counters')
  t.match(list.webhooks, [{ name: 'all', delivered: 3, failed: 0, pending: 0 }])

  t.test('410 Gone removes a standing webhook', async t => {
    await app.inject({ method: 'PUT', url: '/v1/admin/webhooks/gone', payload: { url: `${receiver.base}/gone`, states: ['SUCCESS'] } })
    await clientResult(worker, ['send', 'add', '[1, 1]', randomUUID()])
    await eventually(async () => (await app.inject('/v1/admin/webhooks/gone')).statusCode, s => s === 404, 'the standing webhook to go')
    t.equal(receiver.received.filter(r => r.path === '/gone').length, 1, 'called once')
    const names = (await app.inject('/v1/admin/webhooks')).json().webhooks.map((w: { name: string }) => w.name)
    t.same(names, ['all'])
  })
})
