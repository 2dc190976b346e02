import t from 'tap'
import { Redis } from 'ioredis'
import { aclRule } from '../../src/redis/acl.js'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }

t.test('the documented least-privilege ACL lets every endpoint work and nothing else', async t => {
  const server = await startRedis(t)
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  const prefix = 'app1_'
  await admin.call('ACL', 'SETUSER', 'gateway', 'reset', ...aclRule(prefix, 'gw-secret-pw'))
  const app = await buildTestApp(t, `redis://gateway:gw-secret-pw@127.0.0.1:${server.port}/0`, { RG_REDIS_KEY_PREFIX: prefix, RG_RATE_LIMIT_PER_MINUTE: '1000' })
  const ok = (code: number) => code < 400 || code === 404
  const waiting = app.inject('/v1/results/acl-w/wait?timeoutSeconds=10')
  for (const req of [
    { method: 'GET' as const, url: '/readyz' },
    { method: 'PUT' as const, url: '/v1/results/acl-1', headers: json, payload: '{"state":"SUCCESS","result":1}' },
    { method: 'PUT' as const, url: '/v1/results/acl-1', headers: json, payload: '{"state":"FAILURE"}' },
    { method: 'GET' as const, url: '/v1/results/acl-1' },
    { method: 'GET' as const, url: '/v1/results/acl-1/raw' },
    { method: 'PUT' as const, url: '/v1/results/acl-1/ttl', headers: json, payload: '{"ttlSeconds":null}' },
    { method: 'POST' as const, url: '/v1/results:batchGet', headers: json, payload: '{"taskIds":["acl-1","acl-2"]}' },
    { method: 'GET' as const, url: '/v1/groups/acl-g' },
    { method: 'PUT' as const, url: '/v1/results/acl-w', headers: json, payload: '{"state":"SUCCESS","result":"woken"}' },
    { method: 'DELETE' as const, url: '/v1/results/acl-1' },
    { method: 'GET' as const, url: '/metrics' }
  ]) {
    const res = await app.inject(req)
    t.ok(ok(res.statusCode) || res.statusCode === 409, `${req.method} ${req.url} → ${res.statusCode} ${res.statusCode >= 400 ? res.body : ''}`)
  }
  t.match((await waiting).json(), { timedOut: false, state: 'SUCCESS' }, 'pub/sub on the prefixed channel is allowed')
  // The answer cache: CLIENT ID, CLIENT TRACKING … BCAST PREFIX app1_celery-task-meta- and SUBSCRIBE __redis__:invalidate.
  await until(() => app.answers.live, 'the answer cache live under the ACL')
  t.ok(app.answers.live, 'the answer cache\'s tracking is granted')
  const asGateway = new Redis({ port: server.port, host: '127.0.0.1', username: 'gateway', password: 'gw-secret-pw' })
  t.teardown(() => asGateway.quit())
  t.equal(await asGateway.wait(0, 10), 0, 'WAIT (durable stores) is granted')
  t.match(await asGateway.call('ROLE'), ['master'], 'ROLE (Sentinel master check) is granted')
  await t.rejects(asGateway.get('other-service:data'), /NOPERM/, 'a key outside the prefix is denied')
  await t.rejects(asGateway.call('KEYS', '*'), /NOPERM/, 'KEYS is not granted')
  await t.rejects(asGateway.call('FLUSHALL'), /NOPERM/)
  const outside = await buildTestApp(t, `redis://gateway:gw-secret-pw@127.0.0.1:${server.port}/0`, { RG_REDIS_KEY_PREFIX: 'app2' })
  const denied = await outside.inject('/v1/results/x')
  t.equal(denied.statusCode, 503, 'a configuration fix: 503 with Retry-After (#24), not a 500')
  t.ok(Number(denied.headers['retry-after']) > 0)
  t.match(denied.json(), { code: 'RG_REDIS_DENIED', detail: /GET: the ACL user may not access the result keys \(grant ~app2_celery-task-meta-\*\)/ }, 'the problem names the denied command and the key pattern to grant')
  t.notMatch(denied.body, /gw-secret-pw/)
})
