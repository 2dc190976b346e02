/**
 * Every Redis failure maps to its documented problem, and no error path logs more than it should:
 * #15.2 wrong credentials after start → 503 redis-unavailable (not 500); #15.3 a value of the wrong type at a
 * key we read → 422 undecodable-result on every read path; #14.4 RG_INTERNAL says "internal error" and
 * nothing else, its log line keeps the command name and drops the arguments, and expected operational errors
 * are logged once per burst at warn, never per request at error.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { buildLoggedApp, buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const json = { 'content-type': 'application/json' }
const problemCode = (body: string): string => (JSON.parse(body) as { code: string }).code

t.test('WRONGTYPE or any non-string value at a result key answers 422 undecodable-result on every read path', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  const prefix = app.settings.redis.keyPrefix
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  await admin.rpush(`${prefix}celery-task-meta-k-list`, 'x')
  await admin.hset(`${prefix}celery-task-meta-k-hash`, 'status', 'SUCCESS')
  await admin.sadd(`${prefix}celery-task-meta-k-set`, 'x')
  await admin.zadd(`${prefix}celery-task-meta-k-zset`, 0, 'x')
  for (const id of ['k-list', 'k-hash', 'k-set', 'k-zset']) {
    for (const path of [`/v1/results/${id}`, `/v1/results/${id}/raw`, `/v1/results/${id}/wait?timeoutSeconds=1`, `/v1/results/${id}/events?timeoutSeconds=1`]) {
      const res = await app.inject(path)
      t.equal(res.statusCode, 422, `${path}: 422`)
      t.equal(problemCode(res.body), 'RG_UNDECODABLE_RESULT', `${path}: undecodable-result`)
      t.notMatch(res.body, /WRONGTYPE/, `${path}: Redis's text is not the answer`)
    }
  }
  const batch = await app.inject({ method: 'POST', url: '/v1/results:batchGet', headers: json, payload: '{"taskIds":["k-list","k-zset","nothing"]}' })
  t.equal(batch.statusCode, 200, 'a batch answers 200 …')
  t.match(batch.json(), { results: [{ taskId: 'k-list', error: { code: 'RG_UNDECODABLE_RESULT' } }, { taskId: 'k-zset', error: { code: 'RG_UNDECODABLE_RESULT' } }, { taskId: 'nothing', found: false }] }, '… with an error per such item')
  const batchWait = await app.inject({ method: 'POST', url: '/v1/results:batchWait', headers: json, payload: '{"taskIds":["k-hash"],"timeoutSeconds":1}' })
  t.equal(batchWait.statusCode, 422, 'batchWait: 422')

  // What Celery writes while a chord runs (result_chord_ordered): the `.j` parts key is a sorted set. Read as
  // a group id it is Celery's bookkeeping for group G, not a saved group: 404, and G shows the chord progress.
  await admin.zadd(`${prefix}celery-taskset-meta-G.j`, 0, '[1,"t","SUCCESS",1]')
  await admin.set(`${prefix}celery-taskset-meta-G.s`, '3')
  const joinKey = await app.inject('/v1/groups/G.j')
  t.equal(joinKey.statusCode, 404, 'GET /v1/groups/G.j: 404')
  t.equal(problemCode(joinKey.body), 'RG_GROUP_NOT_FOUND')
  const joinWait = await app.inject('/v1/groups/G.j/wait?timeoutSeconds=1')
  t.equal(joinWait.statusCode, 404, 'GET /v1/groups/G.j/wait: 404')
  t.match((await app.inject('/v1/groups/G')).json(), { chord: { total: 3, completed: 1 } }, 'GET /v1/groups/G: chord progress')
  // Any other non-string value where a saved group document should be is not a Celery document: 422.
  await admin.hset(`${prefix}celery-taskset-meta-H`, 'a', 'b')
  const hash = await app.inject('/v1/groups/H')
  t.equal(hash.statusCode, 422, 'a hash at a group key: 422')
  t.equal(problemCode(hash.body), 'RG_UNDECODABLE_RESULT')
})

t.test('credentials rotated under a running gateway: 503 "authentication failed" (never a timeout) with Retry-After, logged once per burst at warn', async t => {
  const oldPassword = 'old-pw-1f2e3d'
  const newPassword = 'new-pw-9a8b7c'
  const redis = await startRedis(t, ['--requirepass', oldPassword])
  const { app, logs } = await buildLoggedApp(t, `redis://:${oldPassword}@127.0.0.1:${redis.port}/0`, { RG_REDIS_COMMAND_TIMEOUT_MS: '1000' })
  t.equal((await app.inject({ method: 'PUT', url: '/v1/results/c-1', headers: json, payload: '{"state":"SUCCESS","result":1}' })).statusCode, 200)
  const admin = new Redis({ port: redis.port, host: '127.0.0.1', password: oldPassword })
  t.teardown(() => admin.disconnect())
  await admin.config('SET', 'requirepass', newPassword)
  await admin.client('KILL', 'TYPE', 'normal')
  const before = logs.length
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    app.inject(i % 2 === 0 ? '/v1/results/c-1' : { method: 'PUT', url: `/v1/results/c-${i}`, headers: json, payload: '{"state":"STARTED"}' })))
  answers.push(await app.inject('/readyz'))
  t.same([...new Set(answers.map(a => a.statusCode))], [503], 'every answer 503')
  t.same([...new Set(answers.map(a => problemCode(a.body)))], ['RG_REDIS_UNAVAILABLE'], 'redis-unavailable')
  t.ok(answers.every(a => Number(a.headers['retry-after']) > 0), 'with Retry-After')
  // #24.5: Redis answered WRONGPASS; requests queued meanwhile must not be told "no answer within the timeout".
  const details = [...new Set(answers.map(a => (JSON.parse(a.body) as { detail: string }).detail))]
  t.same(details, ['Redis is unavailable (authentication failed: the credentials were changed or revoked); retry shortly'], 'every answer says authentication failed')
  const burst = logs.slice(before).map(l => JSON.parse(l) as { level: number, msg: string, err?: { stack?: string } })
  t.same(burst.filter(l => l.level >= 50).map(l => l.msg), [], 'nothing logged at error level')
  t.ok(burst.every(l => l.err?.stack === undefined), 'no stack for an expected operational error')
  const warned = burst.filter(l => l.level === 40 && /redis unavailable/i.test(l.msg))
  t.ok(warned.length === 1, `the burst is logged once at warn (${warned.length} lines for 21 answers)`)
  t.match(warned[0], { detail: /authentication failed/ }, 'naming the cause')
  for (const secret of [oldPassword, newPassword]) {
    t.notOk(logs.some(l => l.includes(secret)), `${secret.slice(0, 6)}… absent from the logs`)
    t.notOk(answers.some(a => a.body.includes(secret)), `${secret.slice(0, 6)}… absent from the answers`)
  }
})

t.test('an unexpected Redis error: 500 "internal error"; the log keeps the command name, never its arguments', async t => {
  // The store's script commands renamed away: "ERR unknown command", a reply the gateway has no row for.
  const redis = await startRedis(t, ['--rename-command', 'EVALSHA', '', '--rename-command', 'EVAL', ''])
  const { app, logs } = await buildLoggedApp(t, redis.url)
  const marker = 'payload-bytes-7c1d9e'
  const res = await app.inject({ method: 'PUT', url: '/v1/results/oom-1', headers: json, payload: JSON.stringify({ state: 'SUCCESS', result: marker }) })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'RG_INTERNAL', detail: 'internal error' }, 'the detail says "internal error" and nothing else')
  t.notMatch(res.body, /unknown command|evalsha/i)
  const line = logs.map(l => JSON.parse(l) as { level: number, err?: { command?: unknown, message?: string } }).find(l => l.level >= 50 && l.err !== undefined)
  t.match(line?.err, { command: /^eval(sha)?$/, message: /^ERR unknown command/ }, 'the error log line names the command')
  t.notOk(logs.some(l => l.includes(marker)), 'the stored document\'s bytes are not logged')
  t.notOk(logs.some(l => l.includes('"args"')), 'no command arguments anywhere in the logs')
})
