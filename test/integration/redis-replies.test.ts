/**
 * #24.1: every Redis error reply a store can meet is a documented problem with Retry-After, never a 500 — each
 * on a real redis-server driven into that state: maxmemory with noeviction (OOM), a snapshot that cannot be
 * written (MISCONF), an ACL user without EVALSHA or PUBLISH (NOPERM), maxclients reached. Reads and /readyz stay
 * 200 while only writes are refused. A reply the gateway has no row for stays 500 "internal error", logged once
 * per burst with the reply's first word.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildLoggedApp, buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'
import { aclRule } from '../../src/redis/acl.js'

const json = { 'content-type': 'application/json' }
const store = (id: string, result: unknown = 1) => ({ method: 'PUT' as const, url: `/v1/results/${id}`, headers: json, payload: JSON.stringify({ state: 'SUCCESS', result }) })
const body = (res: { body: string }) => JSON.parse(res.body) as { code: string, detail: string, status: number }

t.test('OOM (maxmemory, noeviction): 503 redis-out-of-memory naming maxmemory and the policy; reads and /readyz stay 200', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  t.equal((await app.inject(store('kept'))).statusCode, 200)
  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  await admin.config('SET', 'maxmemory', '1')
  const res = await app.inject(store('oom-1'))
  t.equal(res.statusCode, 503, `a store over maxmemory: 503 (got ${res.statusCode} ${res.body})`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.ok(Number(res.headers['retry-after']) > 0, 'with Retry-After')
  t.match(body(res), { code: 'RG_REDIS_OUT_OF_MEMORY', type: '/problems/redis-out-of-memory' })
  t.match(body(res).detail, /maxmemory/, 'the detail names maxmemory')
  t.match(body(res).detail, /noeviction/, 'and the policy')
  t.match(body(res).detail, /reads still work/)
  t.equal((await app.inject('/v1/results/kept')).statusCode, 200, 'a read still answers 200')
  t.equal((await app.inject('/readyz')).statusCode, 200, '/readyz stays 200 while only writes are refused')
  await admin.config('SET', 'maxmemory', '0')
  t.equal((await app.inject(store('oom-1'))).statusCode, 200, 'the retried store succeeds once memory is freed')
})

t.test('MISCONF (a failed snapshot with stop-writes-on-bgsave-error): 503 redis-cannot-persist; reads stay 200', async t => {
  // `dir` is a protected config: this test server allows setting it.
  const redis = await startRedis(t, ['--enable-protected-configs', 'yes'])
  const app = await buildTestApp(t, redis.url)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  t.equal((await app.inject(store('kept'))).statusCode, 200)
  const dir = mkdtempSync(join(tmpdir(), 'rg-misconf-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await admin.config('SET', 'dir', dir)
  // Redis refuses writes after a failed snapshot only when snapshots are configured (save points).
  await admin.config('SET', 'save', '3600 1')
  await admin.config('SET', 'stop-writes-on-bgsave-error', 'yes')
  rmSync(dir, { recursive: true, force: true })
  await admin.bgsave()
  await until(async () => /rdb_last_bgsave_status:err/.test(await admin.info('persistence')), 'BGSAVE to fail')
  const res = await app.inject(store('misconf-1'))
  t.equal(res.statusCode, 503, `a store Redis cannot persist: 503 (got ${res.statusCode} ${res.body})`)
  t.ok(Number(res.headers['retry-after']) > 0, 'with Retry-After')
  t.match(body(res), { code: 'RG_REDIS_CANNOT_PERSIST' })
  t.match(body(res).detail, /persist|snapshot/i)
  t.equal((await app.inject('/v1/results/kept')).statusCode, 200, 'reads still answer 200')
  t.equal((await app.inject('/readyz')).statusCode, 200, '/readyz stays 200')
})

t.test('NOPERM (an ACL user without EVALSHA, or without PUBLISH): 503 redis-denied naming what to grant', async t => {
  const redis = await startRedis(t)
  const prefix = 'acl24:'
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  const rule = aclRule(prefix, 'pw-24')
  await admin.call('ACL', 'SETUSER', 'noevalsha', ...rule.filter(r => r !== '+evalsha' && r !== '+eval'))
  await admin.call('ACL', 'SETUSER', 'nopublish', ...rule.filter(r => r !== '+publish'))
  for (const [user, grant] of [['noevalsha', /EVALSHA/], ['nopublish', /PUBLISH/]] as const) {
    const app = await buildTestApp(t, `redis://${user}:pw-24@127.0.0.1:${redis.port}/0`, { RG_REDIS_KEY_PREFIX: prefix })
    const res = await app.inject(store(`np-${user}`))
    t.equal(res.statusCode, 503, `${user}: 503 (got ${res.statusCode} ${res.body})`)
    t.ok(Number(res.headers['retry-after']) > 0, `${user}: with Retry-After`)
    t.match(body(res), { code: 'RG_REDIS_DENIED' }, `${user}: redis-denied`)
    t.match(body(res).detail, grant, `${user}: the detail names the command to grant`)
  }
})

t.test('max number of clients reached: 503 with Retry-After, never 500', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  t.equal((await app.inject(store('mc-0'))).statusCode, 200)
  // The gateway's data connection drops; Redis, at maxclients, refuses it back.
  const clients = String(await admin.client('LIST')).trim().split('\n')
  await admin.config('SET', 'maxclients', String(clients.length - 1))
  t.teardown(() => admin.config('SET', 'maxclients', '10000'))
  const data = clients.find(l => l.includes('name=result-gateway:data'))
  await admin.client('KILL', 'ID', /id=(\d+)/.exec(data ?? '')?.[1] ?? '0')
  const res = await app.inject(store('mc-1'))
  t.equal(res.statusCode, 503, `503 (got ${res.statusCode} ${res.body})`)
  t.ok(Number(res.headers['retry-after']) > 0, 'with Retry-After')
  t.match(body(res), { code: 'RG_REDIS_UNAVAILABLE' })
})

t.test('a reply without a row (a renamed command): 500 internal, logged once per burst with the reply\'s first word', async t => {
  const redis = await startRedis(t, ['--rename-command', 'EVALSHA', '', '--rename-command', 'EVAL', ''])
  const { app, logs } = await buildLoggedApp(t, redis.url)
  const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => app.inject(store(`u-${i}`))))
  t.same([...new Set(answers.map(a => a.statusCode))], [500])
  t.same([...new Set(answers.map(a => body(a).code))], ['RG_INTERNAL'])
  t.same([...new Set(answers.map(a => body(a).detail))], ['internal error'])
  const lines = logs.map(l => JSON.parse(l) as { level: number, redisReply?: string }).filter(l => l.level >= 50)
  t.equal(lines.length, 1, `one error line for the burst of 5 (${lines.length})`)
  t.equal(lines[0]?.redisReply, 'ERR', 'naming the reply\'s first word')
})

t.test('NOSCRIPT (the script cache flushed under the gateway) never reaches a client: the script is sent again', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  t.equal((await app.inject({ ...store('ns-1'), payload: '{"state":"STARTED"}' })).statusCode, 200)
  await admin.script('FLUSH')
  const res = await app.inject(store('ns-1'))
  t.equal(res.statusCode, 200, `the next store answers 200 (got ${res.statusCode} ${res.body})`)
  t.match(await admin.get(`${app.settings.redis.keyPrefix}celery-task-meta-ns-1`), /^\{"status":"SUCCESS"/, 'and is stored')
})
