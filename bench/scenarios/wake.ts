/**
 * Wake latency: N long-poll waiters on distinct tasks, then one burst of Celery-style SETEX + PUBLISH; each
 * waiter's latency is its answer's arrival minus the moment its PUBLISH was sent.
 */
import { request, Agent } from 'node:http'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Math.round(Number(m?.[1] ?? 0) / 1024)
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}

async function gauge (base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}

export async function wakeLatency (base: string, redis: Redis, pid: number, waiters: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: waiters + 10 })
  const rssBeforeMb = rssMb(pid)
  const run = `wake-${Date.now()}`
  const answered: Array<Promise<{ i: number, at: bigint, ready: boolean }>> = []
  for (let i = 0; i < waiters; i++) {
    answered.push(new Promise((resolve, reject) => {
      const req = request(`${base}/v1/results/${run}-${i}/wait?timeoutSeconds=100`, { agent }, res => {
        let body = ''
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => resolve({ i, at: process.hrtime.bigint(), ready: (JSON.parse(body) as { timedOut: boolean }).timedOut === false }))
      })
      req.on('error', reject)
      req.end()
    }))
  }
  while (await gauge(base, 'result_gateway_pubsub_subscriptions') < waiters) await new Promise(resolve => setTimeout(resolve, 20))
  const rssWithWaitersMb = rssMb(pid)
  const clients = (await redis.client('LIST') as string).split('\n').filter(l => l.includes('name=result-gateway:subscriber')).length
  const sentAt: bigint[] = []
  const pipe = redis.pipeline()
  for (let i = 0; i < waiters; i++) {
    const key = `celery-task-meta-${run}-${i}`
    const doc = JSON.stringify({ status: 'SUCCESS', result: i, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: `${run}-${i}` })
    pipe.setex(key, 300, doc).publish(key, doc)
  }
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < waiters; i++) sentAt.push(t0)
  await pipe.exec()
  const results = await Promise.all(answered)
  agent.destroy()
  const ms = results.map(r => Number(r.at - (sentAt[r.i] ?? t0)) / 1e6).sort((a, b) => a - b)
  return {
    waiters,
    p50Ms: Number(percentile(ms, 0.5).toFixed(2)),
    p99Ms: Number(percentile(ms, 0.99).toFixed(2)),
    maxMs: Number((ms.at(-1) ?? NaN).toFixed(2)),
    allReady: results.every(r => r.ready),
    rssBeforeMb,
    rssWithWaitersMb,
    rssPerThousandMb: Number(((rssWithWaitersMb - rssBeforeMb) / (waiters / 1000)).toFixed(1)),
    subscriberConnections: clients
  }
}
