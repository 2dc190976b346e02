import t from 'tap'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config.js'
import { runDoctor, type Check } from '../../src/ops/doctor.js'
import { aclRule } from '../../src/redis/acl.js'
import { spawnTied, stopProcess } from '../../src/redis/spawn.js'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname

function runCli (env: Record<string, string>, args: string[]): Promise<{ code: number | null, out: string }> {
  const child = spawnTied(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const timer = setTimeout(() => { stopProcess(child).catch(() => {}) }, 60_000)
  return new Promise(resolve => child.once('exit', code => { clearTimeout(timer); resolve({ code, out }) }))
}

const byName = (checks: Check[]) => Object.fromEntries(checks.map(c => [c.name, c]))

t.test('statistics: keys by state and TTL via SCAN, exported as metrics off the scrape path', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_STATS_INTERVAL_SECONDS: '1', RG_SCAN_BATCH: '10', RG_SCAN_PAUSE_MS: '0' })
  const prefix = app.settings.redis.keyPrefix
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })
  for (let i = 0; i < 25; i++) await put(`ok-${i}`, { state: 'SUCCESS', result: i })
  for (let i = 0; i < 5; i++) await put(`bad-${i}`, { state: 'FAILURE', ttlSeconds: 600 })
  for (let i = 0; i < 3; i++) await put(`run-${i}`, { state: 'STARTED', ttlSeconds: null })
  const other = new Redis(server.port, '127.0.0.1')
  t.teardown(() => other.quit())
  await other.set('someone-elses:celery-task-meta-x', '{}')
  await other.set(`${prefix}celery-task-meta-pickled`, Buffer.from([0x80, 0x04, 0x95]))

  const res = await app.inject('/v1/admin/stats')
  t.equal(res.statusCode, 200, res.body)
  const stats = res.json()
  t.match(stats, { scannedKeys: 34, complete: true, byState: { SUCCESS: 25, FAILURE: 5, STARTED: 3, UNDECODABLE_PICKLE: 1 } }, 'only keys under the prefix, by state')
  t.match(stats.byTtl, { none: 4, under_1h: 5, under_1d: 25, under_7d: 0, over_7d: 0 }, 'by TTL bucket: the default TTL of a day is under_1d (at most a day) however long the scan takes')
  t.ok(stats.memory.usedBytes > 0)
  t.same(stats.memory.policies, ['noeviction'])

  await eventually(async () => (await app.inject('/metrics')).body, body => /result_gateway_result_keys\{state="FAILURE",ttl="under_1h"\} 5/.test(body), 'the refreshed statistics in /metrics')
  const body = (await app.inject('/metrics')).body
  t.match(body, /result_gateway_result_keys\{state="STARTED",ttl="none"\} 3/)
  t.match(body, /result_gateway_redis_memory_used_bytes [1-9]/)
  t.notMatch(body, /stats_last_run_timestamp_seconds 0\n/, 'a run happened')
})

t.test('orphan sweep: a dry run reports keys without TTL; apply gives them the TTL; resumable by cursor', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_RESULT_TTL_SECONDS: '3600', RG_SCAN_BATCH: '10', RG_STATS_INTERVAL_SECONDS: '0' })
  const prefix = app.settings.redis.keyPrefix
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  for (let i = 0; i < 30; i++) await redis.set(`${prefix}celery-task-meta-orphan-${i}`, `{"status":"SUCCESS","result":${i}}`)
  for (let i = 0; i < 20; i++) await redis.set(`${prefix}celery-task-meta-kept-${i}`, '{"status":"SUCCESS"}', 'EX', 100)
  await redis.set('not-ours', 'x')
  const sweep = (body: unknown) => app.inject({ method: 'POST', url: '/v1/admin/orphans:sweep', headers: json, payload: JSON.stringify(body) })

  const dry = (await sweep({})).json()
  t.match(dry, { scannedKeys: 50, orphans: 30, expired: 0, dryRun: true, cursor: null })
  t.equal(dry.sample.length, 20)
  t.ok(dry.sample.every((id: string) => id.startsWith('orphan-')))
  t.equal(await redis.ttl(`${prefix}celery-task-meta-orphan-0`), -1, 'a dry run changes nothing')

  let cursor: string | null = '0:0'
  let expired = 0
  let rounds = 0
  while (cursor !== null && rounds < 50) {
    const part: { expired: number, cursor: string | null } = (await sweep({ apply: true, cursor, maxKeys: 10 })).json()
    expired += part.expired
    cursor = part.cursor
    rounds++
  }
  t.ok(rounds > 1, `resumed by cursor over ${rounds} requests`)
  t.equal(expired, 30, 'every orphan got the TTL')
  const ttl = await redis.ttl(`${prefix}celery-task-meta-orphan-7`)
  t.ok(ttl > 3500 && ttl <= 3600, 'RG_RESULT_TTL_SECONDS')
  t.ok((await redis.ttl(`${prefix}celery-task-meta-kept-3`)) <= 100, 'an existing TTL is left alone (EXPIRE NX)')
  t.equal(await redis.ttl('not-ours'), -1, 'keys outside the prefix untouched')
  t.equal(await redis.dbsize(), 51, 'nothing deleted')
  t.equal((await sweep({ cursor: '99:0' })).statusCode, 400)
  t.equal((await sweep({ cursor: 'KEYS *' })).statusCode, 400)

  const cli = await runCli({ RG_REDIS_URL: server.url, RG_REDIS_KEY_PREFIX: prefix }, ['sweep'])
  t.equal(cli.code, 0, cli.out)
  t.match(cli.out, /"orphans": 0/, 'the CLI sweep sees none left')
})

t.test('doctor: a well-configured Redis passes; eviction and persistence mistakes warn; connection problems fail with exit 1', async t => {
  const good = await startRedis(t, ['--appendonly', 'yes', '--maxmemory', '100mb', '--maxmemory-policy', 'volatile-lru'])
  const env = (url: string) => ({ RG_REDIS_URL: url, RG_AUTH_DISABLED: 'true', RG_REDIS_KEY_PREFIX: 'app1' })
  const seed = new Redis(good.port, '127.0.0.1')
  t.teardown(() => seed.quit())
  await seed.set('app1_celery-task-meta-1', '{"status":"SUCCESS","result":1}')
  const ok = byName(await runDoctor(loadConfig(env(good.url)).redis))
  for (const name of ['connection', 'topology', 'maxmemory-policy', 'acl', 'persistence', 'notify-keyspace-events', 'results']) {
    t.equal(ok[name]?.status, 'pass', `${name}: ${ok[name]?.detail ?? 'missing'}`)
  }
  // Latency is the one check a loaded machine can fail on a good Redis: its verdict must match what it measured.
  const pingMs = Number(/PING round trip median ([\d.]+) ms/.exec(ok.latency?.detail ?? '')?.[1] ?? NaN)
  t.equal(ok.latency?.status, pingMs > 10 ? 'warn' : 'pass', `latency: ${ok.latency?.detail ?? 'missing'}`)
  t.match(ok.results?.detail, /1 results sampled under the prefix "app1_": json 1/)

  const bad = await startRedis(t, ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'])
  const warned = byName(await runDoctor(loadConfig(env(bad.url)).redis))
  t.match(warned['maxmemory-policy'], { status: 'warn', detail: /allkeys-lru/, fix: /volatile-lru/ })
  t.match(warned.persistence, { status: 'warn', detail: /lost when Redis restarts/, fix: /appendonly yes/ })
  t.match(warned.results, { status: 'warn', fix: /RG_REDIS_KEY_PREFIX/ })

  const locked = await startRedis(t, ['--requirepass', 'right-password'])
  const denied = await runDoctor(loadConfig(env(`redis://:wrong-password@127.0.0.1:${locked.port}/0`)).redis)
  t.match(denied, [{ name: 'connection', status: 'fail', detail: /authentication failed/ }])

  const cli = await runCli(env(`redis://:wrong-password@127.0.0.1:${locked.port}/0`), ['doctor'])
  t.equal(cli.code, 1, 'exit 1 on a failed check (an init container or CI step stops here)')
  t.match(cli.out, /^FAIL {2}connection/m)
  t.notMatch(cli.out, /wrong-password/, 'the password never printed')
  const clean = await runCli(env(good.url), ['doctor'])
  t.equal(clean.code, 0, clean.out)
  t.match(clean.out, /OK: (8 pass, 0 warn|7 pass, 1 warn), 0 fail/)
  t.notMatch(clean.out, /^WARN {2}(?!latency)/m, 'only latency may warn (the machine may be loaded)')
  t.equal((await runCli({}, ['frobnicate'])).code, 2, 'usage')
})

t.test('#24 doctor: the ACL user\'s permission for every command the gateway sends; evictions since Redis started', async t => {
  const server = await startRedis(t, ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru'])
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  const rule = aclRule('app1_', 'doc-pw')
  await admin.call('ACL', 'SETUSER', 'full', ...rule)
  await admin.call('ACL', 'SETUSER', 'lacking', ...rule.filter(r => r !== '+publish' && r !== '+type' && r !== '+wait'))
  const env = (user: string) => ({ RG_REDIS_URL: `redis://${user}:doc-pw@127.0.0.1:${server.port}/0`, RG_AUTH_DISABLED: 'true', RG_REDIS_KEY_PREFIX: 'app1' })
  const full = byName(await runDoctor(loadConfig(env('full')).redis))
  t.match(full.acl, { status: 'pass', detail: /every command the gateway sends/ }, 'the documented rule passes')
  const lacking = byName(await runDoctor(loadConfig(env('lacking')).redis))
  t.match(lacking.acl, { status: 'fail', detail: /may not run (?=.*PUBLISH)(?=.*TYPE)(?=.*WAIT)/, fix: /\+publish/ }, `names what is missing: ${lacking.acl?.detail ?? ''}`)
  t.equal(await admin.dbsize(), 0, 'the probe wrote nothing')
  t.match(full['maxmemory-policy'], { status: 'warn', detail: /0 evicted since Redis started/ })
  const big = 'x'.repeat(4000)
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => admin.set(`app1_celery-task-meta-e${i + j}`, big)))
  const evicted = byName(await runDoctor(loadConfig(env('full')).redis))
  t.match(evicted['maxmemory-policy'], { status: 'warn', detail: /allkeys-lru.*evicted \d+ keys since it started/ }, 'evictions reported next to the policy warning')
})

t.test('the admin endpoints need the admin scope', async t => {
  const server = await startRedis(t)
  const tokens = [{ name: 'reader', token: 'r'.repeat(32), scopes: ['read'] }, { name: 'ops', token: 'o'.repeat(32), scopes: ['admin'] }]
  const app = await buildTestApp(t, server.url, { RG_AUTH_DISABLED: 'false', RG_AUTH_TOKENS: JSON.stringify(tokens) })
  const as = (token: string) => ({ authorization: `Bearer ${token}` })
  t.equal((await app.inject({ url: '/v1/admin/doctor', headers: as('r'.repeat(32)) })).statusCode, 403)
  const report = await app.inject({ url: '/v1/admin/doctor', headers: as('o'.repeat(32)) })
  t.equal(report.statusCode, 200)
  t.match(report.json(), { ok: true, checks: [{ name: 'connection', status: 'pass' }] })
  t.equal((await app.inject({ url: '/v1/admin/stats' })).statusCode, 401)
})
