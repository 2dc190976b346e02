import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { capturedResult } from '../helpers/fixtures.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
/** A TTL read back a moment after it was set: within a few seconds below what was set. */
const inRange = (ttl: number, set: number) => ttl <= set && ttl > set - 10

t.test('results API against a real redis-server', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const prefix = app.settings.redis.keyPrefix
  const key = (id: string) => `${prefix}celery-task-meta-${id}`
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })

  t.test('store writes Celery\'s document with the default TTL and publishes it', async t => {
    const sub = new Redis(server.port, '127.0.0.1')
    t.teardown(() => sub.quit())
    const got = new Promise<[string, string]>(resolve => sub.on('message', (c: string, m: string) => resolve([c, m])))
    await sub.subscribe(key('s1'))
    const res = await put('s1', { state: 'SUCCESS', result: { answer: 42 }, name: 'tasks.add', args: [40, 2] })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { taskId: 's1', state: 'SUCCESS', applied: true, ttlSeconds: 86400, published: 1 })
    const stored = await redis.get(key('s1'))
    t.ok(stored)
    const doc = JSON.parse(stored ?? '{}')
    t.same(Object.keys(doc), ['status', 'result', 'traceback', 'children', 'date_done', 'name', 'args', 'task_id'])
    t.match(doc, { status: 'SUCCESS', result: { answer: 42 }, traceback: null, children: [], task_id: 's1' })
    t.match(doc.date_done, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)
    t.ok(inRange(await redis.ttl(key('s1')), 86400), 'default TTL 86400 s')
    const [channel, message] = await got
    t.equal(channel, key('s1'), 'published on the key name, as Celery does')
    t.equal(message, stored, 'payload is the stored bytes')
  })

  t.test('fetch returns the language-neutral view; raw returns the bytes', async t => {
    const res = await app.inject('/v1/results/s1')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.match(res.json(), { taskId: 's1', state: 'SUCCESS', ready: true, result: { answer: 42 }, error: null, name: 'tasks.add', args: [40, 2] })
    const raw = await app.inject('/v1/results/s1/raw')
    t.equal(raw.statusCode, 200)
    t.match(raw.headers['content-type'], /^application\/json/)
    t.equal(raw.body, await redis.get(key('s1')))
  })

  t.test('a result is stored as the JSON text the client sent: big integers stay exact', async t => {
    const res = await app.inject({ method: 'PUT', url: '/v1/results/big', headers: json, payload: '{"state": "SUCCESS", "result": {"id": 12345678901234567890123, "x": [1.50, "\\u00e9"]}}' })
    t.equal(res.statusCode, 200)
    const stored = await redis.get(key('big'))
    t.match(stored, /^\{"status":"SUCCESS","result":\{"id": 12345678901234567890123, "x": \[1\.50, "\\u00e9"\]\},"traceback":null,/)
    t.equal((await app.inject('/v1/results/big/raw')).body, stored)
  })

  t.test('TTL choices: explicit, never, configured default', async t => {
    await put('ttl-60', { state: 'PENDING', ttlSeconds: 60 })
    t.ok(inRange(await redis.ttl(key('ttl-60')), 60), 'TTL 60 s')
    const never = await put('ttl-none', { state: 'SUCCESS', result: 1, ttlSeconds: null })
    t.equal(never.json().ttlSeconds, null)
    t.equal(await redis.ttl(key('ttl-none')), -1)
  })

  t.test('SUCCESS is final: a later write is refused and nothing changes', async t => {
    const before = await redis.get(key('s1'))
    const res = await put('s1', { state: 'FAILURE', error: { type: 'RuntimeError', message: 'late' } })
    t.equal(res.statusCode, 409)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { code: 'RG_RESULT_FINAL', type: '/problems/result-final', status: 409 })
    t.equal(await redis.get(key('s1')), before)
  })

  t.test('SUCCESS is final under concurrent writers', async t => {
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`
      await put(id, { state: 'STARTED' })
      const writers = Array.from({ length: 20 }, (_, i) => put(id, i % 2 === 0
        ? { state: 'SUCCESS', result: i }
        : { state: 'FAILURE', error: { type: 'ValueError', message: String(i) } }))
      const answers = await Promise.all(writers)
      const applied = answers.map((a, i) => ({ i, code: a.statusCode })).filter(a => a.code === 200)
      const firstSuccess = applied.find(a => a.i % 2 === 0)
      t.ok(firstSuccess, 'some SUCCESS was applied')
      const after = applied.filter(a => a.i > (firstSuccess?.i ?? 0) && answers[a.i] !== undefined)
      const stored = JSON.parse(await redis.get(key(id)) ?? '{}')
      t.equal(stored.status, 'SUCCESS', 'the stored state is SUCCESS')
      // Exactly one SUCCESS wins; every write that landed after it was refused.
      t.equal(applied.filter(a => a.i % 2 === 0).length, 1, 'exactly one SUCCESS applied')
      t.equal(stored.result, firstSuccess?.i)
      t.ok(answers.every(a => a.statusCode === 200 || a.statusCode === 409))
      t.ok(after.length <= applied.length)
    }
  })

  t.test('FAILURE with an error object is stored as Celery\'s exception encoding', async t => {
    const res = await put('f1', { state: 'FAILURE', error: { type: 'KeyError', args: ['missing', 3], module: 'builtins' }, traceback: 'Traceback ...' })
    t.equal(res.statusCode, 200)
    const doc = JSON.parse(await redis.get(key('f1')) ?? '{}')
    t.same(doc.result, { exc_type: 'KeyError', exc_message: ['missing', 3], exc_module: 'builtins' })
    const view = (await app.inject('/v1/results/f1')).json()
    t.same(view.error, { type: 'KeyError', message: '["missing",3]', module: 'builtins', args: ['missing', 3] })
    t.equal(view.traceback, 'Traceback ...')
  })

  t.test('results Celery wrote are read as stored (captured fixtures)', async t => {
    for (const name of ['failure-custom', 'extended', 'msgpack', 'progress']) {
      const { taskId, value } = capturedResult(name)
      await redis.set(key(taskId), value)
      const res = await app.inject(`/v1/results/${taskId}`)
      t.equal(res.statusCode, 200, name)
      t.equal(res.json().taskId, taskId)
    }
    const { taskId } = capturedResult('msgpack')
    const raw = await app.inject(`/v1/results/${taskId}/raw`)
    t.equal(raw.headers['content-type'], 'application/msgpack')
    t.same(raw.rawPayload, await redis.getBuffer(key(taskId)))
  })

  t.test('msgpack writer stores what Celery\'s msgpack reads', async t => {
    const mp = await buildTestApp(t, server.url, { RG_RESULT_SERIALIZER: 'msgpack' })
    const id = 'mp1'
    const res = await mp.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'SUCCESS', result: [1, 'two'] } })
    t.equal(res.statusCode, 200)
    const stored = await redis.getBuffer(`${mp.settings.redis.keyPrefix}celery-task-meta-${id}`)
    t.equal(stored?.[0], 0x86, 'a msgpack map of the six Celery fields')
    t.match((await mp.inject(`/v1/results/${id}`)).json(), { state: 'SUCCESS', result: [1, 'two'] })
    const again = await mp.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: { state: 'FAILURE' } })
    t.equal(again.statusCode, 409, 'the Lua guard reads msgpack documents too')
  })

  t.test('pickle and yaml results are refused by name, never parsed', async t => {
    await redis.set(key('pk'), Buffer.from('80049512000000000000007d94288c06737461747573', 'hex'))
    await redis.set(key('ym'), capturedResult('yaml').value)
    for (const [id, name] of [['pk', 'pickle'], ['ym', 'yaml']]) {
      for (const url of [`/v1/results/${id}`, `/v1/results/${id}/raw`, `/v1/results/${id}/wait?timeoutSeconds=0`]) {
        const res = await app.inject(url)
        t.equal(res.statusCode, 422, url)
        t.equal(res.json().code, 'RG_UNSUPPORTED_SERIALIZER')
        t.match(res.json().detail, name)
      }
    }
    await redis.set(key('junk'), '{"not": "celery"}')
    t.equal((await app.inject('/v1/results/junk')).json().code, 'RG_UNDECODABLE_RESULT')
  })

  t.test('expire and persist', async t => {
    const exp = await app.inject({ method: 'PUT', url: '/v1/results/s1/ttl', headers: json, payload: { ttlSeconds: 120 } })
    t.same(exp.json(), { taskId: 's1', ttlSeconds: 120 })
    t.ok(inRange(await redis.ttl(key('s1')), 120), 'TTL 120 s')
    const per = await app.inject({ method: 'PUT', url: '/v1/results/s1/ttl', headers: json, payload: { ttlSeconds: null } })
    t.same(per.json(), { taskId: 's1', ttlSeconds: null })
    t.equal(await redis.ttl(key('s1')), -1)
    const missing = await app.inject({ method: 'PUT', url: '/v1/results/nope/ttl', headers: json, payload: { ttlSeconds: 5 } })
    t.equal(missing.statusCode, 404)
    t.equal(await redis.exists(key('nope')), 0, 'EXPIRE on a missing key creates nothing')
    const bad = await app.inject({ method: 'PUT', url: '/v1/results/s1/ttl', headers: json, payload: { ttlSeconds: 0 } })
    t.equal(bad.statusCode, 400)
  })

  t.test('forget deletes, idempotently; unknown ids are 404, distinct from a stored PENDING', async t => {
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/results/s1' })).statusCode, 204)
    t.equal(await redis.exists(key('s1')), 0)
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/results/s1' })).statusCode, 204)
    const gone = await app.inject('/v1/results/s1')
    t.equal(gone.statusCode, 404)
    t.match(gone.json(), { code: 'RG_RESULT_NOT_FOUND', type: '/problems/result-not-found' })
    await put('p1', { state: 'PENDING' })
    t.match((await app.inject('/v1/results/p1')).json(), { state: 'PENDING', ready: false })
  })

  t.test('bad input is refused cleanly and Redis is untouched', async t => {
    const before = await redis.dbsize()
    const ids = ['%20', 'a%20b', 'a..b', '*', 'a*b', '%0Aid', 'x'.repeat(256), 'a%00b', '%C3%A9', '-lead']
    for (const id of ids) {
      for (const req of [
        { method: 'GET' as const, url: `/v1/results/${id}` },
        { method: 'PUT' as const, url: `/v1/results/${id}`, headers: json, payload: '{"state":"SUCCESS"}' },
        { method: 'DELETE' as const, url: `/v1/results/${id}` }
      ]) {
        const res = await app.inject(req)
        t.equal(res.statusCode, 400, `${req.method} ${id}`)
        t.match(res.headers['content-type'], /^application\/problem\+json/)
        t.equal(res.json().code, 'RG_INVALID_REQUEST')
      }
    }
    t.equal((await app.inject('/v1/results/')).statusCode, 400, 'empty id')
    const dots = await app.inject({ method: 'PUT', url: '/v1/results/..', headers: json, payload: '{"state":"SUCCESS"}' })
    t.equal(dots.statusCode, 404, '".." is a path segment, resolved before routing')
    t.match(dots.headers['content-type'], /^application\/problem\+json/)
    const bodies: Array<[string, unknown, number, string]> = [
      ['unknown state', { state: 'done' }, 400, 'RG_INVALID_REQUEST'],
      ['empty state', { state: '' }, 400, 'RG_INVALID_REQUEST'],
      ['wrong type', { state: 'SUCCESS', ttlSeconds: 'soon' }, 400, 'RG_INVALID_REQUEST'],
      ['negative ttl', { state: 'SUCCESS', ttlSeconds: -1 }, 400, 'RG_INVALID_REQUEST'],
      ['unknown field', { state: 'SUCCESS', status: 'x' }, 400, 'RG_INVALID_REQUEST'],
      ['result and error', { state: 'FAILURE', result: 1, error: { type: 'E' } }, 400, 'RG_INVALID_REQUEST'],
      ['error on SUCCESS', { state: 'SUCCESS', error: { type: 'E' } }, 400, 'RG_INVALID_REQUEST'],
      ['array body', [], 400, 'RG_INVALID_REQUEST'],
      ['hostile child id', { state: 'SUCCESS', children: ['*'] }, 400, 'RG_INVALID_REQUEST']
    ]
    for (const [what, body, status, code] of bodies) {
      const res = await put('victim', body)
      t.equal(res.statusCode, status, what)
      t.equal(res.json().code, code, what)
      t.ok(res.json().detail.length > 0, `${what}: has a detail`)
    }
    const malformed = await app.inject({ method: 'PUT', url: '/v1/results/victim', headers: json, payload: '{"state":' })
    t.equal(malformed.statusCode, 400)
    t.match(malformed.headers['content-type'], /^application\/problem\+json/)
    // The result is kept as sent text only when it is valid JSON; everything else meets the ordinary parser.
    for (const result of ['[1,]', 'NaN', '{"a": 01}', '"\\x"', '{"__proto__": {"admin": true}}', '{"\\u005f_proto__": 1}']) {
      const res = await app.inject({ method: 'PUT', url: '/v1/results/victim', headers: json, payload: `{"state": "SUCCESS", "result": ${result}}` })
      t.equal(res.statusCode, 400, `result ${result}`)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
    }
    const big = await app.inject({ method: 'PUT', url: '/v1/results/victim', headers: json, payload: JSON.stringify({ state: 'SUCCESS', result: 'x'.repeat(2 * 1024 * 1024) }) })
    t.equal(big.statusCode, 413)
    t.equal(big.json().code, 'RG_PAYLOAD_TOO_LARGE')
    const pickle = await app.inject({ method: 'PUT', url: '/v1/results/victim', headers: { 'content-type': 'application/x-python-serialize' }, payload: Buffer.from('8004', 'hex') })
    t.equal(pickle.statusCode, 415)
    t.match(pickle.json().detail, /pickle/)
    const text = await app.inject({ method: 'PUT', url: '/v1/results/victim', headers: { 'content-type': 'text/plain' }, payload: 'hi' })
    t.equal(text.statusCode, 415)
    t.equal(text.json().code, 'RG_UNSUPPORTED_MEDIA_TYPE')
    t.equal(await redis.exists(key('victim')), 0)
    t.equal(await redis.dbsize(), before, 'no key was created by any refused request')
  })

  t.test('unknown routes answer problem+json', async t => {
    const res = await app.inject('/v2/nothing')
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { code: 'RG_ROUTE_NOT_FOUND', status: 404, instance: String })
  })
})

t.test('Redis trouble is a fast 503 with Retry-After, never a hang', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_REDIS_COMMAND_TIMEOUT_MS: '300' })
  // Stored first (a loaded machine can make one SET outlast 300 ms: that 503 is right, and not the subject).
  await eventually(async () => (await app.inject({ method: 'PUT', url: '/v1/results/x', headers: json, payload: '{"state":"SUCCESS"}' })).statusCode, s => s === 200, 'a store while Redis runs')
  await server.stop()
  for (const req of [
    { method: 'GET' as const, url: '/v1/results/x' },
    { method: 'PUT' as const, url: '/v1/results/y', headers: json, payload: '{"state":"SUCCESS"}' },
    { method: 'GET' as const, url: '/v1/results/x/wait?timeoutSeconds=5' }
  ]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 503, req.url)
    t.equal(res.headers['retry-after'], '1')
    t.match(res.json(), { code: 'RG_REDIS_UNAVAILABLE', type: '/problems/redis-unavailable' })
    t.notMatch(res.body, /at .*\.(ts|js):\d+/, 'no stack trace')
  }
})
