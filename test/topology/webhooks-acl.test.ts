/**
 * Webhooks under the documented least-privilege ACL (aclRule + webhookAclRule): per-task and standing deliveries,
 * a retry and the restart re-check (SCAN) all work; the user still cannot touch another prefix's webhook keys.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { aclRule, webhookAclRule } from '../../src/redis/acl.js'
import { buildTestApp } from '../helpers/app.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, until } from '../helpers/until.js'

t.test('webhooks work with the documented ACL and nothing more', async t => {
  const server = await startRedis(t)
  const receiver = await startReceiver(t)
  receiver.respond((req, n, res) => { res.statusCode = req.path === '/task' && n === 1 ? 500 : 204; res.end() })
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  const prefix = 'app1_'
  await admin.call('ACL', 'SETUSER', 'gateway', 'reset', ...aclRule(prefix, 'gw-secret-pw'), ...webhookAclRule(prefix))
  const app = await buildTestApp(t, `redis://gateway:gw-secret-pw@127.0.0.1:${server.port}/0`, {
    RG_REDIS_KEY_PREFIX: prefix, RG_WEBHOOK_SECRET: newSecret(), RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort, RG_WEBHOOK_RETRY_BASE_MS: '20'
  })
  const put = await app.inject({ method: 'PUT', url: '/v1/admin/webhooks/all', payload: { url: `${receiver.base}/standing` } })
  t.equal(put.statusCode, 200, put.body)
  const id = randomUUID()
  t.equal((await app.inject({ method: 'PUT', url: `/v1/results/${id}/webhook`, payload: { url: `${receiver.base}/task` } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PUT', url: `/v1/results/${id}`, payload: { state: 'SUCCESS', result: 1 } })).statusCode, 200)
  const reg = await eventually(async () => (await app.inject(`/v1/results/${id}/webhook`)).json(), r => r.status === 'delivered', 'the per-task delivery')
  t.equal(reg.attempts, 2, 'delivered on the retry')
  await until(() => receiver.received.some(r => r.path === '/standing'), 'the standing delivery')
  t.equal((await app.inject('/v1/admin/webhooks')).statusCode, 200)
  const other = await app.redis.hset('other_rg-webhook:x', 'id', '1').then(() => 'allowed', (err: Error) => err.message)
  t.match(other, /NOPERM/, 'another prefix\'s webhook keys stay out of reach')
})
