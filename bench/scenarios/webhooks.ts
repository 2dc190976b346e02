/**
 * Webhooks: one gateway replica (dist/server.js) with a standing webhook to a fast local receiver (node:http,
 * answers 204 at once), results written the way a Celery worker writes them (SET + PUBLISH):
 *  - latency: BENCH_WEBHOOK_PACED writes one at a time, each awaited, from the write to the receiver's first byte
 *    (its 'request' event: the headers arrived), p50/p99;
 *  - throughput: BENCH_WEBHOOK_BURST writes in one pipeline, deliveries per second until the last arrived;
 *  - control, same run: the bench itself POSTing the same body to the same receiver over as many keep-alive
 *    connections as the gateway may use per target (RG_WEBHOOK_CONCURRENCY_PER_TARGET), so the ratio says what the
 *    queue, signing and SSRF re-check cost against the loopback HTTP ceiling of this machine.
 * Run alone: npm run build && npx tsx bench/scenarios/webhooks.ts (or BENCH_SCOPE=webhooks npx tsx bench/run.ts).
 */
import { createServer, request, Agent } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { startRedisServer } from '../../src/redis/spawn.js'
import { celeryDoc, startGateway } from '../lib.js'

const PACED = Number(process.env.BENCH_WEBHOOK_PACED ?? 500)
const BURST = Number(process.env.BENCH_WEBHOOK_BURST ?? 5000)
const PER_TARGET = Number(process.env.BENCH_WEBHOOK_PER_TARGET ?? 4)

function percentiles (ms: number[]): { p50: number, p99: number, max: number } {
  const s = [...ms].sort((a, b) => a - b)
  const at = (p: number): number => Number((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN).toFixed(2))
  return { p50: at(0.5), p99: at(0.99), max: Number((s.at(-1) ?? NaN).toFixed(2)) }
}

/** A receiver that answers 204 at once and calls `onFirstByte` with the task id as soon as headers arrive. */
async function receiver (onFirstByte: (at: bigint, req: { body: Promise<string> }) => void) {
  const server = createServer((req, res) => {
    const at = process.hrtime.bigint()
    const chunks: Buffer[] = []
    const body = new Promise<string>(resolve => req.on('end', () => resolve(Buffer.concat(chunks).toString())))
    req.on('data', (c: Buffer) => chunks.push(c))
    onFirstByte(at, { body })
    req.on('end', () => { res.statusCode = 204; res.end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

/** The control: `count` POSTs of `body` over `connections` keep-alive connections; requests per second. */
async function control (port: number, body: string, count: number, connections: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  let next = 0
  const started = performance.now()
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/control', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.end(body)
      })
    }
  }
  await Promise.all(Array.from({ length: connections }, lane))
  agent.destroy()
  return count / ((performance.now() - started) / 1000)
}

export async function webhookBench () {
  const redis = await startRedisServer()
  const stops: Array<() => Promise<unknown>> = [() => redis.stop()]
  try {
    const arrivals = new Map<string, bigint>()
    const waiting = new Map<string, () => void>()
    const rx = await receiver((at, req) => {
      req.body.then(text => {
        const id = /"taskId":"([^"]+)"/.exec(text)?.[1]
        if (id === undefined || arrivals.has(id)) return
        arrivals.set(id, at)
        waiting.get(id)?.()
      })
    })
    stops.push(() => new Promise(resolve => { rx.server.closeAllConnections(); rx.server.close(resolve) }))
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    const gw = await startGateway(redis.url, {
      RG_WEBHOOK_SECRET: secret,
      RG_WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${rx.port}`,
      RG_WEBHOOK_CONCURRENCY_PER_TARGET: String(PER_TARGET),
      RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0'
    })
    stops.push(gw.stop)
    const put = await fetch(`${gw.url}/v1/admin/webhooks/bench`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `http://127.0.0.1:${rx.port}/hook` }) })
    if (put.status !== 200) throw new Error(`standing webhook: ${put.status} ${await put.text()}`)
    const writer = new Redis(redis.port, '127.0.0.1')
    stops.push(() => writer.quit())
    // Until the replica watches the channels (its subscriber shows psub=1), a write would not be heard.
    while (!String(await writer.client('LIST')).includes(' psub=1 ')) await new Promise(resolve => setTimeout(resolve, 50))
    const run = `wh-${Date.now()}`
    const write = (id: string) => {
      const doc = celeryDoc(id, 200)
      const key = `celery-task-meta-${id}`
      return writer.multi().set(key, doc, 'EX', 600).publish(key, doc).exec()
    }

    process.stderr.write(`webhooks: ${PACED} paced writes…\n`)
    const latencies: number[] = []
    for (let i = 0; i < PACED; i++) {
      const id = `${run}-p${i}`
      const arrived = new Promise<void>(resolve => waiting.set(id, resolve))
      const t0 = process.hrtime.bigint()
      await write(id)
      await arrived
      waiting.delete(id)
      latencies.push(Number((arrivals.get(id) ?? t0) - t0) / 1e6)
    }

    process.stderr.write(`webhooks: burst of ${BURST}…\n`)
    const ids = Array.from({ length: BURST }, (_, i) => `${run}-b${i}`)
    const all = Promise.all(ids.map(id => new Promise<void>(resolve => waiting.set(id, resolve))))
    const started = process.hrtime.bigint()
    const pipe = writer.pipeline()
    for (const id of ids) {
      const doc = celeryDoc(id, 200)
      pipe.set(`celery-task-meta-${id}`, doc, 'EX', 600).publish(`celery-task-meta-${id}`, doc)
    }
    await pipe.exec()
    await all
    const last = ids.reduce((m, id) => { const a = arrivals.get(id) ?? started; return a > m ? a : m }, started)
    const deliveriesPerSecond = BURST / (Number(last - started) / 1e9)

    process.stderr.write('webhooks: control (direct POSTs)…\n')
    const sample = `{"type":"result.ready","timestamp":"2026-12-02T00:00:00.000Z","data":${JSON.stringify({ taskId: 'x', state: 'SUCCESS', ready: true, result: JSON.parse(celeryDoc('x', 200)).result })}}`
    const controlPerSecond = await control(rx.port, sample, BURST, PER_TARGET)
    return {
      paced: PACED,
      burst: BURST,
      perTarget: PER_TARGET,
      writeToFirstByteMs: percentiles(latencies),
      deliveriesPerSecond: Math.round(deliveriesPerSecond),
      controlPostsPerSecond: Math.round(controlPerSecond),
      ratioToControl: Number((deliveriesPerSecond / controlPerSecond).toFixed(2))
    }
  } finally {
    for (const stop of stops.reverse()) await stop()
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${JSON.stringify(await webhookBench(), null, 2)}\n`)
}
