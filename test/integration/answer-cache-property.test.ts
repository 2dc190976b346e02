/**
 * #28: no stale answer after an invalidation has been delivered, whatever the writers do. fast-check draws, per
 * key, a sequence of writes by other processes (redis-cli SET / DEL / EXPIRE / PEXPIRE until gone / PERSIST,
 * Celery's backend code storing a result) run concurrently across keys, plus a real Celery worker running a
 * task on a key the readers poll from before it exists; readers poll every key through the gateway meanwhile.
 *
 * "Delivered" is made exact with fences: after each write completes, another write to a fence key follows it in
 * Redis; invalidations reach the gateway in Redis's order, so once the fence's invalidation has been processed
 * by the gateway, so has every invalidation of the writes before it. Every read that started after that moment
 * must answer the state of that write or of a later one. At the end, with no writer left, the gateway and
 * Redis agree on every key.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import type { Response as InjectResponse } from 'light-my-request'
import { buildTestApp } from '../helpers/app.js'
import { cacheLive, metric, redisCli, watchInvalidations } from '../helpers/cache.js'
import { clientResult, startWorker } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, until } from '../helpers/until.js'

type Op =
  | { kind: 'set', status: 'PROGRESS' | 'SUCCESS', ttl: number | null }
  | { kind: 'celery' } | { kind: 'del' } | { kind: 'persist' } | { kind: 'expire' } | { kind: 'expire-short' }

const OpArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), status: fc.constantFrom('PROGRESS' as const, 'SUCCESS' as const), ttl: fc.constantFrom(null, 100) }),
  fc.constantFrom<Op>({ kind: 'celery' }, { kind: 'del' }, { kind: 'persist' }, { kind: 'expire' }, { kind: 'expire-short' })
)

/** What a client can tell apart: state, the version written, and for ready results whether max-age is capped (300). */
interface Model { exists: boolean, status: string, v: number, capped: boolean }
const sigOf = (m: Model): string => !m.exists ? '404' : m.status === 'SUCCESS' ? `${m.status}:${m.v}:${m.capped ? 'cap' : 'ttl'}` : `${m.status}:${m.v}`

function sigOfAnswer (res: InjectResponse): string {
  if (res.statusCode === 404) return '404'
  const body = res.json() as { state?: string, status?: string, result?: { v?: unknown } | null }
  const state = body.state ?? body.status ?? '?'
  const v = String(body.result?.v)
  return state === 'SUCCESS' ? `${state}:${v}:${res.headers['cache-control'] === 'private, max-age=300' ? 'cap' : 'ttl'}` : `${state}:${v}`
}

const doc = (id: string, status: string, v: number) => JSON.stringify({ status, result: { v }, traceback: null, children: [], date_done: null, task_id: id })

t.test('no stale answer after an invalidation was delivered: random writers, concurrent readers', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '' })
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.quit())
  const worker = await startWorker(t, { redisPort: server.port })
  await cacheLive(app)
  const seen = watchInvalidations(app)
  const key = (id: string) => `celery-task-meta-${id}`
  const cli = (...args: string[]) => redisCli(server.port, args)
  let fences = 0
  let checkedReads = 0

  /** A write to a fence key after `what` completed; resolves with the moment the gateway processed its invalidation. */
  const fence = async (): Promise<number> => {
    const id = `fence-${fences++}`
    const before = performance.now()
    await admin.set(key(id), doc(id, 'SUCCESS', 0))
    await seen.arrived(key(id), before)
    return (seen.at.get(key(id)) ?? []).find(at => at > before) ?? before
  }

  /** What Redis holds for `id` now, as a client would tell it apart (read directly, after the write completed). */
  const observed = async (id: string): Promise<string> => {
    const [raw, ttl] = await Promise.all([admin.get(key(id)), admin.ttl(key(id))])
    if (raw === null) return '404'
    const d = JSON.parse(raw) as { status: string, result: { v?: unknown } | null }
    const capped = ttl < 0 || ttl >= 300
    return sigOf({ exists: true, status: d.status, v: Number(d.result?.v), capped })
  }

  /**
   * Runs one lane's writes in order, each by another process; after each, Redis's state is the version it
   * opened (observed, not predicted: Celery, for one, does not overwrite a stored SUCCESS) and a fence follows.
   */
  const runLane = async (id: string, ops: Op[], versions: string[][], fenced: Array<{ at: number, from: number }>) => {
    let n = 0
    for (const op of ops) {
      n++
      switch (op.kind) {
        case 'set':
          await cli('SET', key(id), doc(id, op.status, n), ...(op.ttl === null ? [] : ['EX', String(op.ttl)]))
          break
        case 'celery':
          await clientResult({ redisPort: server.port }, ['mark', id, 'SUCCESS', JSON.stringify({ v: n })])
          break
        case 'del':
          await cli('DEL', key(id))
          break
        case 'persist':
          await cli('PERSIST', key(id))
          break
        case 'expire':
          await cli('EXPIRE', key(id), '100')
          break
        case 'expire-short': {
          await cli('PEXPIRE', key(id), '300')
          versions.push([await observed(id), '404']) // until it expires, either
          fenced.push({ at: await fence(), from: versions.length - 1 })
          await eventually(() => admin.exists(key(id)), n => n === 0, `${id} expired`)
          break
        }
      }
      versions.push([await observed(id)])
      fenced.push({ at: await fence(), from: versions.length - 1 })
    }
  }

  let run = 0
  await fc.assert(fc.asyncProperty(fc.array(fc.array(OpArb, { minLength: 2, maxLength: 7 }), { minLength: 3, maxLength: 3 }), async (lanes) => {
    const r = run++
    const ids = lanes.map((_, i) => `p${r}-k${i}`)
    const workerId = `p${r}-w-${randomUUID()}`
    const versions = ids.map(() => [['404']])
    const fenced = ids.map(() => [] as Array<{ at: number, from: number }>)
    const reads: Array<{ lane: number, start: number, sig: string }> = []
    const lanesRunning = { writing: true }
    const readers = Array.from({ length: 3 }, async (_, reader) => {
      for (let i = 0; lanesRunning.writing; i++) {
        const lane = (i + reader) % (ids.length + 1)
        const id = lane === ids.length ? workerId : ids[lane] ?? ''
        const start = performance.now()
        const res = await app.inject(`/v1/results/${id}${i % 3 === 2 ? '/raw' : ''}`)
        // A 503 (Redis slower than the command timeout on a loaded machine) is no answer at all, stale or not.
        if (lane < ids.length && res.statusCode !== 503) reads.push({ lane, start, sig: sigOfAnswer(res) })
        await new Promise(resolve => setImmediate(resolve))
      }
    })
    // The worker's key: polled as a 404 first, then STARTED, then SUCCESS, all written by the worker process.
    const workerLane = (async () => {
      await clientResult(worker, ['send', 'echo', JSON.stringify([{ v: 7 }]), workerId])
      await eventually(() => admin.get(key(workerId)), v => v !== null && v.includes('"SUCCESS"'), 'the worker\'s result')
      const at = await fence()
      await until(async () => {
        const res = await app.inject(`/v1/results/${workerId}`)
        return res.statusCode === 200
      }, 'the worker\'s result through the gateway')
      const after = await app.inject(`/v1/results/${workerId}`)
      return { at, sig: sigOfAnswer(after) }
    })()
    await Promise.all(lanes.map((ops, i) => runLane(ids[i] ?? '', ops, versions[i] ?? [], fenced[i] ?? [])))
    const w = await workerLane
    lanesRunning.writing = false
    await Promise.all(readers)

    if (w.sig !== 'SUCCESS:7:cap') return false
    for (const read of reads) {
      const vs = versions[read.lane] ?? []
      // The newest fence delivered before the read started: from that version on, every state is allowed.
      const last = (fenced[read.lane] ?? []).filter(f => f.at < read.start).at(-1)
      if (last === undefined) continue
      checkedReads++
      const allowed = new Set(vs.slice(last.from).flat())
      if (!allowed.has(read.sig)) {
        t.fail(`stale: ${ids[read.lane] ?? ''} answered ${read.sig} after version ${last.from} was fenced (allowed ${[...allowed].join(' ')})`)
        return false
      }
    }
    // Quiet now: one more fence, then the gateway answers exactly what Redis holds.
    await fence()
    for (const [i, id] of ids.entries()) {
      const res = await app.inject(`/v1/results/${id}`)
      const final = (versions[i] ?? []).at(-1)?.[0]
      if (sigOfAnswer(res) !== final) {
        t.fail(`after the writers: ${id} answered ${sigOfAnswer(res)}, Redis holds ${final ?? '?'}`)
        return false
      }
    }
    return true
  }), { numRuns: 5, endOnFailure: true })
  t.ok(checkedReads > 100, `${checkedReads} reads checked against a delivered invalidation`)
  t.ok(await metric(app, 'result_gateway_cache_hits_total') > 0, 'the readers were answered from the cache (the property is not vacuous)')
})
