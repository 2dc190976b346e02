import t from 'tap'
import { Redis } from 'ioredis'
import { freePort } from '../../src/redis/spawn.js'
import { runServer } from '../helpers/server.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

t.test('a bad configuration exits 1 listing every problem', async t => {
  const srv = runServer(t, { RG_HTTP_PORT: 'x', RG_RESULT_SERIALIZER: 'pickle', RG_REDIS_PASSWORD: 'hunter2-secret' })
  t.equal(await srv.exited, 1)
  t.match(srv.output(), /RG_HTTP_PORT/)
  t.match(srv.output(), /RG_RESULT_SERIALIZER/)
  t.notMatch(srv.output(), /hunter2-secret/)
})

t.test('with no Redis configured it starts a throwaway redis-server and says so', async t => {
  const port = await freePort()
  const srv = runServer(t, { RG_HTTP_PORT: String(port) })
  await srv.listening()
  t.match(srv.output(), /started a throwaway redis-server/)
  const put = await fetch(`http://127.0.0.1:${port}/v1/results/quick`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"state":"SUCCESS","result":1}' })
  t.equal(put.status, 200)
  t.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200)
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
})

t.test('SIGTERM: waiters get an answer, the password never reaches the logs, exit 0', async t => {
  const secret = 'pw-' + Math.random().toString(36).slice(2)
  const redis = await startRedis(t, ['--requirepass', secret])
  const port = await freePort()
  const srv = runServer(t, {
    RG_HTTP_PORT: String(port),
    RG_REDIS_URL: `redis://:${secret}@127.0.0.1:${redis.port}/0`,
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'probe', token: `${secret}-api-token`, scopes: ['read'] }]),
    RG_LOG_LEVEL: 'trace'
  })
  await srv.listening()
  t.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'authenticated with the URL password')
  const headers = { authorization: `Bearer ${secret}-api-token` }
  const waits = [1, 2].map(i => fetch(`http://127.0.0.1:${port}/v1/results/sig-${i}/wait?timeoutSeconds=30`, { headers }).then(r => r.json()))
  const probe = new Redis({ port: redis.port, host: '127.0.0.1', password: secret })
  t.teardown(() => probe.quit())
  // The harness's deadline (30 s), not 5 s: under a full parallel suite the subscriptions can take longer.
  await until(async () => (await probe.pubsub('CHANNELS', '*sig-*') as string[]).length === 2, 'both waiters subscribed')
  srv.child.kill('SIGTERM')
  for (const body of await Promise.all(waits)) t.match(body, { interrupted: true, state: 'PENDING' })
  t.equal(await srv.exited, 0)
  t.notMatch(srv.output(), secret, 'password and API token absent from every log line')
  t.match(srv.output(), /shutting down/)
})

t.test('SIGTERM drops no in-flight request: every fetch and store already received gets its answer', async t => {
  const port = await freePort()
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'info' })
  await srv.listening()
  const base = `http://127.0.0.1:${port}/v1/results`
  const headers = { 'content-type': 'application/json' }
  const n = 100
  const requests = Array.from({ length: n }, (_, i) => (i % 2 === 0
    ? fetch(`${base}/drain-${i}`, { method: 'PUT', headers, body: JSON.stringify({ state: 'SUCCESS', result: i }) })
    : fetch(`${base}/drain-${i - 1}`)).then(r => r.status, (err: Error) => `dropped: ${err.message}`))
  // SIGTERM once the server has logged every request as received: all of them are then in flight.
  const received = () => (srv.output().match(/incoming request/g) ?? []).length
  for (let i = 0; i < 3000 && received() < n; i++) await new Promise(resolve => setTimeout(resolve, 5))
  t.equal(received(), n, 'all requests reached the server before SIGTERM')
  srv.child.kill('SIGTERM')
  const statuses = await Promise.all(requests)
  t.same(statuses.filter(s => typeof s !== 'number'), [], 'no request was dropped')
  t.ok(statuses.every(s => s === 200 || s === 404 || s === 503), 'every answer is a real HTTP status')
  t.equal(await srv.exited, 0)
})
