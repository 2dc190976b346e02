/**
 * Secrets never leave: a real gateway process at trace level, with a Redis password and API tokens, driven
 * through every endpoint (good and bad requests); its logs, every answer body and /metrics are scanned.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { runServer } from '../helpers/server.js'
import { freePort } from '../../src/redis/spawn.js'
import { startRedis } from '../helpers/redis-server.js'

t.test('no secret in logs, answers or metrics', async t => {
  const password = `pw-${randomBytes(8).toString('hex')}`
  const readToken = `rt-${randomBytes(12).toString('hex')}`
  const adminToken = `at-${randomBytes(12).toString('hex')}`
  const redis = await startRedis(t, ['--requirepass', password])
  const port = await freePort()
  // runServer turns load shedding off: on a loaded CI box the start-up lag at trace level turned every answer into 503.
  const srv = runServer(t, {
    RG_REDIS_URL: `redis://:${password}@127.0.0.1:${redis.port}/0`,
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'reader', token: readToken, scopes: ['read'] }, { name: 'ops', token: adminToken, scopes: ['admin'] }]),
    RG_METRICS_PUBLIC: 'false',
    RG_RATE_LIMIT_PER_MINUTE: '1000',
    RG_HTTP_PORT: String(port),
    RG_LOG_LEVEL: 'trace',
    RG_WAIT_MAX_SECONDS: '1',
    RG_WAIT_DEFAULT_SECONDS: '1'
  })
  await srv.listening()
  const base = `http://127.0.0.1:${port}`
  const bodies: string[] = []
  const call = async (method: string, path: string, token?: string, body?: string) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
    bodies.push(`${res.status} ${[...res.headers].join(' ')} ${await res.text()}`)
    return res.status
  }
  const statuses = [
    await call('PUT', '/v1/results/r1', adminToken, '{"state":"SUCCESS","result":1}'),
    await call('PUT', '/v1/results/r1', readToken, '{"state":"SUCCESS","result":2}'),
    await call('PUT', '/v1/results/r1', `${readToken}x`, '{"state":"SUCCESS"}'),
    await call('GET', '/v1/results/r1', readToken),
    await call('GET', '/v1/results/r1/raw', readToken),
    await call('GET', '/v1/results/r1/wait?timeoutSeconds=0', readToken),
    await call('GET', '/v1/results/r1/events?timeoutSeconds=0', readToken),
    await call('PUT', '/v1/results/r1/ttl', adminToken, '{"ttlSeconds":60}'),
    await call('POST', '/v1/results:batchGet', readToken, '{"taskIds":["r1","r2"]}'),
    await call('POST', '/v1/results:batchWait', readToken, '{"taskIds":["r1"],"timeoutSeconds":0}'),
    await call('GET', '/v1/groups/g1', readToken),
    await call('GET', '/v1/results/bad*id', readToken),
    await call('PUT', '/v1/results/r2', adminToken, '{"state":'),
    await call('DELETE', '/v1/results/r1', adminToken),
    await call('GET', '/readyz'),
    await call('GET', '/openapi.json')
  ]
  t.same(statuses, [200, 403, 401, 200, 200, 200, 200, 200, 200, 200, 404, 400, 400, 204, 200, 200])
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } }).then(r => r.text())
  t.match(metrics, /result_gateway_http_requests_total/)
  srv.child.kill('SIGTERM')
  await srv.exited
  const logs = srv.output()
  t.ok(logs.split('\n').length > 20, 'trace logs were written')
  for (const [name, secret] of [['Redis password', password], ['read token', readToken], ['admin token', adminToken]] as const) {
    t.notMatch(logs, secret, `${name} absent from the logs`)
    t.notMatch(bodies.join('\n'), secret, `${name} absent from every answer`)
    t.notMatch(metrics, secret, `${name} absent from /metrics`)
  }
})
