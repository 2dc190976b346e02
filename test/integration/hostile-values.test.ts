/**
 * Values other tools leave in Redis (#15.4, #16.2): a compressed bomb is refused with 422 without stalling the
 * process or growing its memory; a stored value that is not a valid Celery document answers 422
 * undecodable-result on every read route, and spoils only its own item in a batch.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { Redis } from 'ioredis'
import { freePort } from '../../src/redis/spawn.js'
import { buildTestApp } from '../helpers/app.js'
import { zlibBomb } from '../helpers/bomb.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'
import { measureStalls } from '../helpers/stalls.js'

/** Peak resident memory of a process (VmHWM), in MiB. */
/** The body as JSON, or the text itself when it does not parse (what a strict client would choke on). */
const parsed = (body: string): unknown => { try { return JSON.parse(body) } catch { return body } }

const peakMb = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)

t.test('a 1 MB zlib value that inflates to 1 GiB: 422, /healthz stays responsive, memory stays flat', async t => {
  const redis = await startRedis(t)
  const port = await freePort()
  const srv = runServer(t, { RG_REDIS_URL: redis.url, RG_HTTP_PORT: String(port), RG_AUTH_DISABLED: 'true', RG_LOG_LEVEL: 'info', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0' })
  await srv.listening()
  const base = `http://127.0.0.1:${port}`
  const client = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => client.quit())
  const bomb = zlibBomb(1024)
  t.ok(bomb.length < 1.1e6, `the bomb is ${bomb.length} bytes`)
  await client.set('celery-task-meta-zb', bomb)
  for (let i = 0; i < 5; i++) await fetch(`${base}/healthz`) // warm
  const peakBefore = peakMb(srv.child.pid ?? 0)

  // /healthz is polled back to back for as long as the attack runs; its worst latency is what a probe sees.
  const attack = { running: true }
  // This process's own stalls stand for how hard the machine is loaded (helpers/stalls.ts).
  const stalls = measureStalls()
  let worstMs = 0
  const probe = (async () => {
    while (attack.running) {
      const t0 = performance.now()
      await fetch(`${base}/healthz`)
      worstMs = Math.max(worstMs, performance.now() - t0)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  })()
  const started = performance.now()
  const answers = await Promise.all([
    fetch(`${base}/v1/results/zb`),
    fetch(`${base}/v1/results/zb/wait?timeoutSeconds=0`),
    fetch(`${base}/v1/results:batchGet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"taskIds":["zb"]}' })
  ])
  const elapsedMs = performance.now() - started
  attack.running = false
  await probe
  const stallMs = stalls.stop()
  const [get, wait, batch] = answers as [Response, Response, Response]
  t.equal(get.status, 422)
  t.match(await get.json(), { code: 'RG_UNDECODABLE_RESULT', detail: /RG_RESULT_MAX_BYTES/ })
  t.equal(wait.status, 422)
  t.match(await wait.json(), { code: 'RG_UNDECODABLE_RESULT' })
  t.equal(batch.status, 200)
  t.match(await batch.json(), { results: [{ taskId: 'zb', found: true, result: null, error: { code: 'RG_UNDECODABLE_RESULT' } }] })
  const peakAfter = peakMb(srv.child.pid ?? 0)
  t.comment(`three reads of the bomb answered in ${Math.round(elapsedMs)} ms; worst /healthz ${Math.round(worstMs)} ms; peak RSS ${peakBefore} → ${peakAfter} MiB; ` +
    `longest stall of this process ${stallMs} ms`)
  // Deadline-style bounds, generous for a loaded CI box: before the cap the reads took 3.5–10.5 s, /healthz
  // stalled 3.4–6.1 s and the peak RSS grew by over 1 GiB.
  t.ok(elapsedMs < 2000 + stallMs, `refused within 2 s + ${stallMs} ms stalled (${Math.round(elapsedMs)} ms)`)
  t.ok(worstMs < 1000 + stallMs, `/healthz answered within 1 s + ${stallMs} ms stalled throughout (worst ${Math.round(worstMs)} ms)`)
  t.ok(peakAfter - peakBefore < 200, `peak RSS grew by less than 200 MiB (${peakBefore} → ${peakAfter} MiB)`)
})

t.test('a stored value that is not a valid Celery document is 422 on every read route', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const prefix = app.settings.redis.keyPrefix
  const key = (id: string) => `${prefix}celery-task-meta-${id}`
  const good = JSON.stringify({ status: 'SUCCESS', result: { ok: true }, traceback: null, children: [], date_done: null, task_id: 'good' })
  const corrupt: Array<[string, Buffer]> = [
    ['bad literal in result', Buffer.from('{"status":"SUCCESS","result":{"a":tru}}')],
    ['unclosed array in result', Buffer.from('{"status":"SUCCESS","result":[1,2}')],
    ['leading zero in args', Buffer.from('{"status":"SUCCESS","result":1,"args":[01],"task_id":"x"}')],
    ['raw control character in a string', Buffer.from('{"status":"SUCCESS","result":"a\u0001b"}')],
    ['invalid UTF-8 in a string', Buffer.concat([Buffer.from('{"status":"SUCCESS","result":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
    ['trailing garbage', Buffer.from('{"status":"SUCCESS","result":1}xyz')],
    ['truncated', Buffer.from('{"status":"SUCCESS","result":{"rows":[1,2,3')]
  ]
  await redis.set(key('good'), good)
  for (const [i, [what, value]] of corrupt.entries()) {
    const id = `corrupt-${i}`
    await redis.set(key(id), value)
    for (const url of [`/v1/results/${id}`, `/v1/results/${id}/raw`, `/v1/results/${id}/wait?timeoutSeconds=0`, `/v1/results/${id}/events?timeoutSeconds=0`]) {
      const res = await app.inject(url)
      t.equal(res.statusCode, 422, `${what}: ${url}`)
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: ${url}`)
      t.match(parsed(res.body), { code: 'RG_UNDECODABLE_RESULT' }, `${what}: ${url}`)
    }
    const batch = await app.inject({ method: 'POST', url: '/v1/results:batchGet', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ taskIds: ['good', id] }) })
    t.equal(batch.statusCode, 200, `${what}: batchGet`)
    const items = (parsed(batch.body) as { results?: unknown[] }).results ?? [] // valid JSON whatever is stored
    t.match(items[0], { taskId: 'good', error: null, result: { result: { ok: true } } }, `${what}: the rest of the batch`)
    t.match(items[1], { taskId: id, found: true, result: null, error: { code: 'RG_UNDECODABLE_RESULT' } }, `${what}: its own item`)
  }
  // A saved group whose document is corrupt, and a group whose child is.
  await redis.set(`${prefix}celery-taskset-meta-g1`, '{"result":[[["c1",null],nul]]}')
  t.match(parsed((await app.inject('/v1/groups/g1')).body), { status: 422, code: 'RG_UNDECODABLE_RESULT' }, 'corrupt group document')
  await redis.set(`${prefix}celery-taskset-meta-gz`, zlibBomb(64))
  t.match(parsed((await app.inject('/v1/groups/gz')).body), { status: 422, code: 'RG_UNDECODABLE_RESULT', detail: /RG_RESULT_MAX_BYTES/ }, 'compressed bomb as a group document')
})
