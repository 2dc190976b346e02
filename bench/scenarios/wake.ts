/**
 * Waiting at scale: N long-poll waiters on distinct tasks over one gateway process, then
 *  - paced: 1,000 Celery-style SETEX + PUBLISH one at a time, each awaited: latency PUBLISH → HTTP answer
 *    (1,000 samples, so the p99 is the 10th slowest, not the 2nd);
 *  - burst: 1,000 SETEX + PUBLISH in one pipeline while the rest keep waiting: latency of each answer.
 * Reports resident memory before/after establishing the waiters and the Redis subscriber connections used.
 */
import { request, Agent } from 'node:http'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

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
  for (let i = 0; i < waiters; i++) {
    answered.push(new Promise((resolve) => {
      const req = request(`${base}/v1/results/${run}-${i}/wait?timeoutSeconds=110`, { agent }, res => {
        let body = ''
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => {
          answeredAt.set(i, process.hrtime.bigint())
          arrivals.get(i)?.()
          resolve(res.statusCode === 200 && body.includes('"timedOut":false'))
        })
      })
      req.on('error', () => {
        answeredAt.set(i, process.hrtime.bigint())
        arrivals.get(i)?.()
        resolve(false)
      })
      req.end()
    }))
  }
  while (await gauge(base, 'result_gateway_pubsub_subscriptions') < waiters) await new Promise(resolve => setTimeout(resolve, 50))
  const rssWithWaitersMb = rssMb(pid)
  const clients = (await redis.client('LIST') as string).split('\n').filter(l => l.includes('name=result-gateway:subscriber')).length
  const publish = (i: number, pipe: ReturnType<Redis['pipeline']>) => {
    const key = `celery-task-meta-${run}-${i}`
    const doc = JSON.stringify({ status: 'SUCCESS', result: i, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: `${run}-${i}` })
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
  // Burst: 1,000 results in one pipeline while the other waiters keep waiting.
  const burstIds = Array.from({ length: Math.min(1000, waiters - PACED) }, (_, k) => PACED + k)
  const burstDone = Promise.all(burstIds.map(i => answeredAt.has(i) ? undefined : new Promise<void>(resolve => arrivals.set(i, resolve))))
  const pipe = redis.pipeline()
  for (const i of burstIds) publish(i, pipe)
  const t0 = process.hrtime.bigint()
  await pipe.exec()
  await burstDone
  const burst = burstIds.map(i => Number((answeredAt.get(i) ?? t0) - t0) / 1e6).filter(ms => ms >= 0)
  // Release everyone else.
  const rest = redis.pipeline()
  for (let i = PACED + burstIds.length; i < waiters; i++) publish(i, rest)
  await rest.exec()
  const ok = await Promise.all(answered)
  agent.destroy()
  return {
    waiters,
    paced: { size: paced.length, ...percentiles(paced) },
    burst: { size: burstIds.length, ...percentiles(burst) },
    allReady: ok.every(Boolean),
    rssBeforeMb,
    rssWithWaitersMb,
    rssPerThousandMb: Number(((rssWithWaitersMb - rssBeforeMb) / (waiters / 1000)).toFixed(1)),
    subscriberConnections: clients
  }
}
