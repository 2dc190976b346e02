/**
 * #15.1 / #15.2: the Redis password rotated under a running gateway (`CONFIG SET requirepass NEW`, then
 * `CLIENT KILL TYPE normal`), on a single server, over mutual TLS, behind Sentinel and on a Cluster. Every
 * endpoint is driven before and after (good and bad requests, a value of the wrong type, a durable store on
 * its own connection); every log line (trace level) and every answer is grepped for every secret: the old and
 * new Redis passwords, the sentinel password, the API tokens, the TLS client key. After the rotation every
 * Redis-backed answer is 503 redis-unavailable with Retry-After, never a 500.
 */
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { Cluster, Redis } from 'ioredis'
import type { App } from '../../src/app.js'
import { freePort, spawnRedis } from '../../src/redis/spawn.js'
import { buildLoggedApp } from '../helpers/app.js'
import { startCluster, startRedis, startSentinelSet } from '../helpers/redis-server.js'
import { makeCerts, tlsServerArgs } from '../helpers/tls.js'

const OLD = 'old-redis-pw-5d1c7a'
const NEW = 'new-redis-pw-e94b20'
const SENTINEL_PW = 'sentinel-pw-77f03a'
const READ = 'read-token-3c9a1f7e5b2d'
const WRITE = 'write-token-8e6b0d4a2c19'
const ADMIN = 'admin-token-1f5e9c3b7a60'
const json = { 'content-type': 'application/json' }
const tokens = JSON.stringify([
  { name: 'reader', token: READ, scopes: ['read'] },
  { name: 'writer', token: WRITE, scopes: ['read', 'write'] },
  { name: 'ops', token: ADMIN, scopes: ['read', 'write', 'admin'] }
])

type Admin = Pick<Redis, 'config' | 'client' | 'rpush' | 'disconnect'>

/**
 * Every endpoint, good and bad; returns each answer as "status headers body". In order before the rotation
 * (store, then read); all at once after it, where each Redis-backed one waits out its deadline.
 */
async function drive (app: App, parallel: boolean): Promise<Array<{ status: number, text: string }>> {
  const out: Array<{ status: number, text: string }> = []
  const pending: Array<Promise<void>> = []
  const call = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, token?: string, payload?: string): Promise<void> => {
    const headers: Record<string, string> = { ...(payload === undefined ? {} : json), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }
    const answer = app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) })
      .then(res => { out.push({ status: res.statusCode, text: `${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}` }) })
    if (parallel) pending.push(answer)
    else await answer
  }
  await call('PUT', '/v1/results/s-1', WRITE, '{"state":"SUCCESS","result":1}')
  await call('PUT', '/v1/results/s-1', WRITE, '{"state":"FAILURE"}')
  await call('PUT', '/v1/results/s-2?replicas=1', WRITE, '{"state":"SUCCESS","result":2}')
  await call('PUT', '/v1/results/s-3', READ, '{"state":"SUCCESS"}')
  await call('GET', '/v1/results/s-1', `${READ}x`)
  await call('GET', '/v1/results/s-1')
  await call('GET', '/v1/results/s-1', READ)
  await call('GET', '/v1/results/s-1/raw', READ)
  await call('GET', '/v1/results/s-list', READ)
  await call('GET', '/v1/results/s-1/wait?timeoutSeconds=0', READ)
  await call('GET', '/v1/results/s-1/events?timeoutSeconds=0', READ)
  await call('POST', '/v1/results:batchGet', READ, '{"taskIds":["s-1","s-list","s-none"]}')
  await call('POST', '/v1/results:batchWait', READ, '{"taskIds":["s-1"],"timeoutSeconds":0}')
  await call('GET', '/v1/groups/g-1', READ)
  await call('GET', '/v1/groups/g-1/wait?timeoutSeconds=0', READ)
  await call('PUT', '/v1/results/s-1/ttl', WRITE, '{"ttlSeconds":60}')
  await call('PUT', '/v1/results/s-4', WRITE, '{"state":')
  await call('GET', '/v1/results/bad*id', READ)
  await call('GET', '/nowhere', READ)
  await call('DELETE', '/v1/results/s-1', WRITE)
  await call('GET', '/readyz')
  await call('GET', '/metrics', ADMIN)
  await Promise.all(pending)
  return out
}

async function rotationLeaksNothing (t: Test, url: string, env: Record<string, string>, admins: Admin[], extraSecrets: string[]): Promise<void> {
  const { app, logs } = await buildLoggedApp(t, url, {
    RG_AUTH_DISABLED: 'false',
    RG_AUTH_TOKENS: tokens,
    RG_METRICS_PUBLIC: 'false',
    RG_RATE_LIMIT_PER_MINUTE: '100000',
    RG_REDIS_COMMAND_TIMEOUT_MS: '1000',
    RG_REDIS_DURABLE_TIMEOUT_MS: '200',
    ...env
  })
  await admins[0]?.rpush(`${app.settings.redis.keyPrefix}celery-task-meta-s-list`, 'x').catch(() => { /* a cluster node not owning the slot */ })
  const before = await drive(app, false)
  t.equal(before[0]?.status, 200, 'a store works before the rotation')
  for (const admin of admins) {
    await admin.config('SET', 'masterauth', NEW)
    await admin.config('SET', 'requirepass', NEW)
    await admin.client('KILL', 'TYPE', 'normal')
  }
  // Twice: the first meets killed connections, the second reconnect attempts refused with the old password.
  const after = [...await drive(app, true), ...await drive(app, true)]
  const answers = [...before, ...after]
  t.same(answers.filter(a => a.status === 500).map(a => a.text.slice(0, 300)), [], 'never a 500, before or after')
  const unavailable = after.filter(a => a.status === 503)
  t.ok(unavailable.length >= 10, `Redis-backed answers after the rotation are 503 (${unavailable.length})`)
  t.ok(unavailable.every(a => /redis-unavailable|not-replicated|overloaded/.test(a.text) && /"retry-after":"[1-9]\d*"/.test(a.text)), 'redis-unavailable with Retry-After')
  t.ok(logs.length > 50, `trace logs captured (${logs.length} lines)`)
  const secrets: Array<[string, string]> = [['old Redis password', OLD], ['new Redis password', NEW], ['read token', READ], ['write token', WRITE], ['admin token', ADMIN]]
  for (const s of extraSecrets) secrets.push(['another secret', s])
  for (const [name, secret] of secrets) {
    t.notOk(logs.some(l => l.includes(secret)), `${name} absent from every log line`)
    t.notOk(answers.some(a => a.text.includes(secret)), `${name} absent from every answer`)
  }
  t.notOk(logs.some(l => l.includes('"args"')), 'no Redis command arguments in any log line')
}

t.test('single server', async t => {
  const redis = await startRedis(t, ['--requirepass', OLD])
  const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: OLD })
  t.teardown(() => admin.disconnect())
  await rotationLeaksNothing(t, `redis://:${OLD}@127.0.0.1:${redis.port}/0`, {}, [admin], [])
})

t.test('mutual TLS', async t => {
  const certs = makeCerts(t)
  const port = await freePort()
  const server = await spawnRedis('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', OLD, ...tlsServerArgs(certs, port, true)], port)
  t.teardown(() => server.stop())
  const tls = { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }
  const admin = new Redis({ port, host: '127.0.0.1', password: OLD, tls })
  t.teardown(() => admin.disconnect())
  // A line of the key's base64 body: the bytes that must never be logged.
  const keyBytes = readFileSync(certs.clientKey, 'utf8').split('\n').find(l => l.length > 40 && !l.startsWith('-')) ?? 'missing key line'
  await rotationLeaksNothing(t, `rediss://:${OLD}@127.0.0.1:${port}/0`, {
    RG_REDIS_TLS_CA_FILE: certs.ca, RG_REDIS_TLS_CERT_FILE: certs.clientCert, RG_REDIS_TLS_KEY_FILE: certs.clientKey
  }, [admin], [keyBytes])
})

t.test('Sentinel, with a password on the sentinels too', async t => {
  const set = await startSentinelSet(t, { replicas: 0, sentinels: 1, password: OLD, sentinelPassword: SENTINEL_PW })
  const admin = new Redis({ port: set.master.port, host: '127.0.0.1', password: OLD })
  t.teardown(() => admin.disconnect())
  await rotationLeaksNothing(t, set.url, {
    RG_REDIS_SENTINEL_MASTER: set.masterName, RG_REDIS_PASSWORD: OLD, RG_REDIS_SENTINEL_PASSWORD: SENTINEL_PW
  }, [admin], [SENTINEL_PW])
})

t.test('Cluster', async t => {
  const cluster = await startCluster(t, { password: OLD })
  const nodes = cluster.nodes.map(n => new Redis({ port: n.port, host: '127.0.0.1', password: OLD }))
  const client = new Cluster(cluster.nodes.slice(0, 3).map(n => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { password: OLD } })
  t.teardown(() => { for (const n of nodes) n.disconnect(); client.disconnect() })
  const first = nodes[0] as Redis
  // The first "admin" writes the wrong-type value through the cluster client (any slot), rotates node 0.
  const rpushOnly: Admin = {
    config: first.config.bind(first),
    client: first.client.bind(first),
    rpush: client.rpush.bind(client) as Redis['rpush'],
    disconnect: () => {}
  }
  await rotationLeaksNothing(t, '', { RG_REDIS_URL: '', RG_REDIS_CLUSTER_NODES: cluster.seeds, RG_REDIS_PASSWORD: OLD }, [rpushOnly, ...nodes.slice(1)], [])
})
