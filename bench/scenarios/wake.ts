/**
 * Waiting at scale: N long-poll waiters on distinct tasks over one gateway process, then
 *  - paced: 1,000 Celery-style SETEX + PUBLISH one at a time, each awaited: latency PUBLISH → HTTP answer
 *    (1,000 samples, so the p99 is the 10th slowest, not the 2nd);
 *  - burst: 1,000 SETEX + PUBLISH of small documents in one pipeline while the rest keep waiting;
 *  - burst 3.4 KB: the same with 3.4 KB documents (the size of #18's profile).
 * Reports resident memory before/after establishing the waiters and the Redis subscriber connections used.
 * Run by bench/wake-client.ts in a process of its own: the client's own work (10,000 sockets, 1,000 answers
 * parsed at once) must not share an event loop with the rest of the bench.
 */
import { request, Agent } from 'node:http'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import { cpuSeconds } from '../lib.js'

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Math.round(Number(m?.[1] ?? 0) / 1024)
}

function percentiles (ms: number[]): { p50: number, p99: number, max: number } {
  const s = [...ms].sort((a, b) => a - b)
  const at = (p: number) => Number((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN).toFixed(2))
  return { p50: at(0.5), p99: at(0.99), max: Number((s.at(-1) ?? NaN).toFixed(2)) }
}

async function gauge (base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}

export async function wakeLatency (base: string, redis: Redis, pid: number, waiters: number) {
  const agent = new Agent({ keepAlive: false, maxSockets: waiters + 10 })
  const rssBeforeMb = rssMb(pid)
  const run = `wake-${Date.now()}`
  const answeredAt = new Map<number, bigint>()
  const answered: Array<Promise<boolean>> = []
  const arrivals = new Map<number, () => void>()
  let failed = 0
  const open = (i: number, attempt: number, resolve: (ok: boolean) => void): void => {
    const req = request(`${base}/v1/results/${run}-${i}/wait?timeoutSeconds=900`, { agent }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => {
        answeredAt.set(i, process.hrtime.bigint())
        arrivals.get(i)?.()
        resolve(res.statusCode === 200 && body.includes('"timedOut":false'))
      })
    })
    req.on('error', () => {
      // A loaded machine drops connects from a full accept queue: retry before counting a waiter as lost.
      if (attempt < 5) {
        setTimeout(() => open(i, attempt + 1, resolve), 200 * (attempt + 1))
        return
      }
      failed++
      answeredAt.set(i, process.hrtime.bigint())
      arrivals.get(i)?.()
      resolve(false)
    })
    req.end()
  }
  // In chunks, each established (subscribed) before the next: thousands of connects at once overflow the
  // listen backlog on a loaded machine, and a lost waiter must end the wait for the gauge, not hang it.
  const CHUNK = 500
  for (let from = 0; from < waiters; from += CHUNK) {
    for (let i = from; i < Math.min(waiters, from + CHUNK); i++) answered.push(new Promise(resolve => open(i, 0, resolve)))
    const want = Math.min(waiters, from + CHUNK)
    const deadline = Date.now() + 120_000
    while (await gauge(base, 'result_gateway_pubsub_subscriptions') < want - failed) {
      if (Date.now() > deadline) throw new Error(`only ${await gauge(base, 'result_gateway_pubsub_subscriptions')} of ${want} waiters established (${failed} failed)`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  const rssWithWaitersMb = rssMb(pid)
  const clients = (await redis.client('LIST') as string).split('\n').filter(l => l.includes('name=result-gateway:subscriber')).length
  const bigResult = { rows: Array.from({ length: 86 }, (_, k) => ({ id: k, name: `row-${k}`, score: k * 1.5 })) }
  const publish = (i: number, pipe: ReturnType<Redis['pipeline']>, big = false) => {
    const key = `celery-task-meta-${run}-${i}`
    const doc = JSON.stringify({ status: 'SUCCESS', result: big ? bigResult : i, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: `${run}-${i}` })
    return pipe.setex(key, 300, doc).publish(key, doc)
  }
  // Paced: one result at a time, so each latency is the wake path alone.
  const PACED = Math.min(1000, Math.floor(waiters / 2))
  const paced: number[] = []
  for (let i = 0; i < PACED; i++) {
    if (answeredAt.has(i)) continue // refused or failed before its result: not a wake-up to time
    const arrived = new Promise<void>(resolve => arrivals.set(i, resolve))
    const t0 = process.hrtime.bigint()
    await publish(i, redis.pipeline()).exec()
    await arrived
    paced.push(Number((answeredAt.get(i) ?? t0) - t0) / 1e6)
  }
  // Bursts: 1,000 results in one pipeline while the other waiters keep waiting; small, then 3.4 KB documents.
  let next = PACED
  const burstOf = async (big: boolean): Promise<number[]> => {
    const ids = Array.from({ length: Math.max(0, Math.min(1000, waiters - next)) }, (_, k) => next + k)
    next += ids.length
    const done = Promise.all(ids.map(i => answeredAt.has(i) ? undefined : new Promise<void>(resolve => arrivals.set(i, resolve))))
    const pipe = redis.pipeline()
    for (const i of ids) publish(i, pipe, big)
    const cpu0 = cpuSeconds(pid)
    const t0 = process.hrtime.bigint()
    await pipe.exec()
    await done
    // The gateway's own CPU per woken waiter (10 ms clock ticks over ~1,000 wake-ups: ±10 µs).
    cpuPerWake.push(Number(((cpuSeconds(pid) - cpu0) * 1e6 / Math.max(1, ids.length)).toFixed(0)))
    return ids.map(i => Number((answeredAt.get(i) ?? t0) - t0) / 1e6).filter(ms => ms >= 0)
  }
  const cpuPerWake: number[] = []
  const burst = await burstOf(false)
  const burstBig = await burstOf(true)
  const docBytes = Buffer.byteLength(JSON.stringify({ status: 'SUCCESS', result: bigResult, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: `${run}-0` }))
  // Release everyone else.
  const rest = redis.pipeline()
  for (let i = next; i < waiters; i++) publish(i, rest)
  await rest.exec()
  const ok = await Promise.all(answered)
  agent.destroy()
  return {
    waiters,
    paced: { size: paced.length, ...percentiles(paced) },
    burst: { size: burst.length, cpuUsPerWake: cpuPerWake[0] ?? NaN, ...percentiles(burst) },
    burstBig: { size: burstBig.length, docBytes, cpuUsPerWake: cpuPerWake[1] ?? NaN, ...percentiles(burstBig) },
    allReady: ok.every(Boolean),
    failedToWait: failed,
    rssBeforeMb,
    rssWithWaitersMb,
    rssPerThousandMb: Number(((rssWithWaitersMb - rssBeforeMb) / (waiters / 1000)).toFixed(1)),
    subscriberConnections: clients
  }
}
