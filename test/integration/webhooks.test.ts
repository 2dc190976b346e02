/**
 * Per-task webhooks against a real redis-server and real loopback receivers (allow-listed): delivery of gateway
 * writes with the signature checked by an independent verifier (examples/python/verify_webhook.py), a ready task
 * delivered at registration, non-ready states never delivered, retries with one webhook-id after 500/503/timeout,
 * failure after the last attempt, 410 cancelling, redirects not followed, and a registration made before a full
 * outage delivered by the next gateway to start.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, testConfig } from '../helpers/app.js'
import { PYTHON } from '../helpers/celery.js'
import { newSecret, startReceiver, type Received } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, until } from '../helpers/until.js'

const VERIFIER = fileURLToPath(new URL('../../examples/python/verify_webhook.py', import.meta.url))

/** The Python example verifier's verdict on one received request. */
function pythonVerdict (secret: string, r: Received): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [VERIFIER], (err, stdout) => {
      if (err !== null && stdout === '') reject(err)
      else resolve(stdout.trim())
    })
    child.stdin?.end(JSON.stringify({ secret, headers: r.headers, body: r.body }))
  })
}

t.test('per-task webhooks', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  const secret = newSecret()
  const env = {
    RG_WEBHOOK_SECRET: secret,
    RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort,
    RG_WEBHOOK_RETRY_BASE_MS: '50',
    RG_WEBHOOK_RETRY_MAX_MS: '200',
    RG_WEBHOOK_TIMEOUT_MS: '400',
    RG_WEBHOOK_VISIBILITY_TIMEOUT_MS: '3000',
    RG_WEBHOOK_MAX_ATTEMPTS: '4'
  }
  const app = await buildTestApp(t, redis.url, env)
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, payload: body as object })
  const register = (id: string, path: string, states?: string[]) =>
    app.inject({ method: 'PUT', url: `/v1/results/${id}/webhook`, payload: { url: `${receiver.base}${path}`, ...(states === undefined ? {} : { states }) } })
  const registration = async (id: string) => (await app.inject(`/v1/results/${id}/webhook`)).json()
  const at = (path: string) => receiver.received.filter(r => r.path === path)
  const settled = (id: string) => eventually(() => registration(id), r => ['delivered', 'failed', 'cancelled'].includes(r.status), `the webhook of ${id} to settle`)

  t.test('a gateway write is delivered once, signed, with the view GET answers; STARTED, PROGRESS and RETRY are not', async t => {
    const id = randomUUID()
    const reg = await register(id, '/one')
    t.equal(reg.statusCode, 200, reg.body)
    t.match(reg.json(), { taskId: id, status: 'pending', attempts: 0, states: ['SUCCESS', 'FAILURE', 'REVOKED'], webhookId: null })
    for (const state of ['STARTED', 'PROGRESS', 'RETRY']) t.equal((await put(id, { state, result: { at: state } })).statusCode, 200)
    t.equal((await put(id, { state: 'SUCCESS', result: { answer: 42 } })).statusCode, 200)
    const done = await settled(id)
    t.match(done, { status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null })
    const got = at('/one')
    t.equal(got.length, 1, 'one delivery, for SUCCESS only')
    const r = got[0] as Received
    t.equal(r.headers['content-type'], 'application/json')
    t.equal(r.headers['webhook-id'], done.webhookId)
    t.match(r.headers['webhook-timestamp'], /^\d+$/)
    t.match(r.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
    t.equal(await pythonVerdict(secret, r), 'valid', 'the Python verifier accepts the signature')
    t.equal(await pythonVerdict(newSecret(), r), 'invalid: no matching v1 signature', 'and refuses it under another secret')
    const body = JSON.parse(r.body)
    t.equal(body.type, 'result.ready')
    t.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    t.same(body.data, (await app.inject(`/v1/results/${id}`)).json(), 'data is the result view exactly as GET answers it')
  })

  t.test('a task already ready is delivered at registration; custom states are delivered when asked for', async t => {
    const id = randomUUID()
    await put(id, { state: 'FAILURE', error: { type: 'ValueError', message: 'bad' } })
    t.equal((await register(id, '/ready')).statusCode, 200)
    t.match(await settled(id), { status: 'delivered' })
    t.equal(JSON.parse(at('/ready')[0]?.body ?? '{}').data.state, 'FAILURE')
    const custom = randomUUID()
    await register(custom, '/progress', ['PROGRESS'])
    await put(custom, { state: 'PROGRESS', result: { current: 1 } })
    t.match(await settled(custom), { status: 'delivered' })
    t.equal(JSON.parse(at('/progress')[0]?.body ?? '{}').data.state, 'PROGRESS')
  })

  t.test('500, 503 and a timeout are retried with one webhook-id until a 2xx', async t => {
    receiver.respond((req, _n, res) => {
      if (req.path !== '/flaky') { res.statusCode = 204; res.end(); return }
      const n = at('/flaky').length
      if (n === 1) { res.statusCode = 500; res.end() } else if (n === 2) { res.statusCode = 503; res.end() } else if (n === 3) { /* no answer: times out */ } else { res.statusCode = 200; res.end('ok') }
    })
    t.teardown(() => receiver.respond((_r, _n, res) => { res.statusCode = 204; res.end() }))
    const id = randomUUID()
    await register(id, '/flaky')
    await put(id, { state: 'SUCCESS', result: 1 })
    const done = await settled(id)
    t.match(done, { status: 'delivered', attempts: 4, lastStatusCode: 200 })
    const got = at('/flaky')
    t.equal(got.length, 4)
    t.same(new Set(got.map(r => r.headers['webhook-id'])), new Set([done.webhookId]), 'the same webhook-id on every attempt')
    t.same(new Set(got.map(r => r.body)).size, 1, 'the same body on every attempt')
    for (const r of got) t.equal(await pythonVerdict(secret, r), 'valid')
  })

  t.test('the last failed attempt marks the webhook failed, kept for inspection', async t => {
    receiver.respond((req, _n, res) => { res.statusCode = req.path === '/down' ? 500 : 204; res.end() })
    t.teardown(() => receiver.respond((_r, _n, res) => { res.statusCode = 204; res.end() }))
    const id = randomUUID()
    await register(id, '/down')
    await put(id, { state: 'SUCCESS', result: 1 })
    t.match(await settled(id), { status: 'failed', attempts: 4, lastStatusCode: 500, lastError: 'http_error' })
    t.equal(at('/down').length, 4)
  })

  t.test('410 Gone cancels: no retry', async t => {
    receiver.respond((req, _n, res) => { res.statusCode = req.path === '/gone' ? 410 : 204; res.end() })
    t.teardown(() => receiver.respond((_r, _n, res) => { res.statusCode = 204; res.end() }))
    const id = randomUUID()
    await register(id, '/gone')
    await put(id, { state: 'SUCCESS', result: 1 })
    t.match(await settled(id), { status: 'cancelled', attempts: 1, lastStatusCode: 410 })
    t.equal(at('/gone').length, 1)
  })

  t.test('a redirect is not followed', async t => {
    const other = await startReceiver(t)
    receiver.respond((req, _n, res) => {
      if (req.path === '/moved') { res.statusCode = 302; res.setHeader('location', `${other.base}/elsewhere`) } else res.statusCode = 204
      res.end()
    })
    t.teardown(() => receiver.respond((_r, _n, res) => { res.statusCode = 204; res.end() }))
    const id = randomUUID()
    await register(id, '/moved')
    await put(id, { state: 'SUCCESS', result: 1 })
    t.match(await settled(id), { status: 'failed', lastStatusCode: 302, lastError: 'redirect' })
    t.equal(other.received.length, 0, 'the redirect target was never called')
  })

  t.test('DELETE cancels a registration before its result is ready', async t => {
    const id = randomUUID()
    await register(id, '/deleted')
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/results/${id}/webhook` })).statusCode, 204)
    t.equal((await app.inject(`/v1/results/${id}/webhook`)).statusCode, 404)
    await put(id, { state: 'SUCCESS', result: 1 })
    // A second webhook on another task, written after: once it arrived, the first had its chance.
    const probe = randomUUID()
    await register(probe, '/probe')
    await put(probe, { state: 'SUCCESS', result: 1 })
    await settled(probe)
    t.equal(at('/deleted').length, 0)
  })

  t.test('the registration lives with the result\'s TTL', async t => {
    const id = randomUUID()
    await put(id, { state: 'STARTED', ttlSeconds: 1234 })
    await register(id, '/ttl')
    const admin = new Redis(redis.port, '127.0.0.1')
    t.teardown(() => admin.quit())
    const ttl = await admin.ttl(`${app.settings.redis.keyPrefix}rg-webhook:${id}`)
    t.ok(ttl > 1200 && ttl <= 1234, `TTL ${ttl}`)
  })
})

t.test('a registration made before a full outage is delivered by the next gateway to start', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  const env = { RG_WEBHOOK_SECRET: newSecret(), RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort, RG_REDIS_KEY_PREFIX: `o${randomBytes(4).toString('hex')}:` }
  const first = await buildApp(testConfig(redis.url, env))
  await first.ready()
  const id = randomUUID()
  t.equal((await first.inject({ method: 'PUT', url: `/v1/results/${id}/webhook`, payload: { url: `${receiver.base}/later` } })).statusCode, 200)
  await first.close()
  // Written the way a Celery worker writes it, while no gateway runs: SET + PUBLISH, which nobody hears.
  const worker = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => worker.quit())
  const key = `${env.RG_REDIS_KEY_PREFIX}celery-task-meta-${id}`
  const doc = JSON.stringify({ status: 'SUCCESS', result: 7, traceback: null, children: [], date_done: new Date().toISOString(), task_id: id })
  await worker.set(key, doc)
  t.equal(await worker.publish(key, doc), 0, 'no gateway heard the PUBLISH')
  const second = await buildTestApp(t, redis.url, env)
  await until(() => receiver.received.length === 1, 'the delivery after the restart')
  t.equal(JSON.parse(receiver.received[0]?.body ?? '{}').data.result, 7)
  // The receiver has the request before the gateway has its answer and records it.
  const reg = await eventually(async () => (await second.inject(`/v1/results/${id}/webhook`)).json(), r => r.status !== 'delivering', 'the recorded outcome')
  t.match(reg, { status: 'delivered', attempts: 1 })
})
