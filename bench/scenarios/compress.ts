/**
 * What compression costs and saves (#25): bytes on the wire and gateway CPU per request, identity vs gzip vs
 * br, for fetches of a 256 B, 1 KB, 2 KB and 4 KB result and a 1,000-id batchGet, in alternating rounds on one
 * gateway (RG_COMPRESS_THRESHOLD_BYTES=1, so every size is compressed when asked): the ratios are read within
 * one run, which is what a loaded host allows. Runs this tree's src/ through tsx (no build needed).
 *
 *   npx tsx bench/scenarios/compress.ts            (or BENCH_SCOPE=compress npm run bench)
 *   BENCH_ROUNDS (2), BENCH_DURATION (s per fetch cell, 2), BENCH_CONNECTIONS (10), BENCH_BATCH_REQUESTS (40 per batch cell)
 */
import { request } from 'node:http'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { Redis } from 'ioredis'
import { freePort, startRedisServer, stopProcess } from '../../src/redis/spawn.js'
import { cannon, celeryDoc, spawnBench, waitForHttp, type Figures } from '../lib.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const BATCH_REQUESTS = Number(process.env.BENCH_BATCH_REQUESTS ?? 40)
const ENCODINGS = ['identity', 'gzip', 'br'] as const
const SERVER = new URL('../../src/server.ts', import.meta.url).pathname

/** amount: a fixed number of requests instead of a duration (a 200 KB batch answers a few times a second). */
interface Target { name: string, path: string, method: 'GET' | 'POST', body?: string, amount?: number }

/** Bytes of the answer body as sent (not decoded: node's fetch would inflate it). */
function wireBytes (base: string, t: Target, encoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'accept-encoding': encoding, ...(t.body === undefined ? {} : { 'content-type': 'application/json' }) }
    const req = request(`${base}${t.path}`, { method: t.method, headers }, res => {
      let n = 0
      res.on('data', (c: Buffer) => { n += c.length })
      res.on('end', () => resolve(n))
    })
    req.on('error', reject)
    req.end(t.body)
  })
}

/** Body text as the gateway sends it uncompressed. */
function identityBody (base: string, t: Target): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${t.path}`, { method: t.method, headers: t.body === undefined ? {} : { 'content-type': 'application/json' } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks)))
    })
    req.on('error', reject)
    req.end(t.body)
  })
}

/**
 * The compression step alone, in this process (process.cpuUsage, so other processes' load counts less): CPU µs
 * per body for gzip (zlib's default level, as @fastify/compress uses it) and br (quality 4, its default).
 */
function compressCpuUs (body: Buffer): { gzip: number, br: number } {
  const time = (fn: () => void): number => {
    const iterations = Math.max(20, Math.min(2000, Math.floor(2_000_000 / body.length)))
    fn()
    const c0 = process.cpuUsage()
    for (let i = 0; i < iterations; i++) fn()
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / iterations
  }
  return {
    gzip: time(() => gzipSync(body)),
    br: time(() => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }))
  }
}

export async function compressBench (): Promise<string> {
  const redis = await startRedisServer([])
  const port = await freePort()
  const gw = spawnBench(process.execPath, ['--import', 'tsx', SERVER], {
    env: { PATH: process.env.PATH ?? '', RG_REDIS_URL: redis.url, RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'warn', RG_AUTH_DISABLED: 'true', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RG_COMPRESS_THRESHOLD_BYTES: '1' }
  })
  try {
    const base = `http://127.0.0.1:${port}`
    await waitForHttp(`${base}/healthz`)
    const admin = new Redis(redis.port, '127.0.0.1')
    const ids = Array.from({ length: 1000 }, (_, i) => `batch-${i}`)
    await admin.mset('celery-task-meta-c256', celeryDoc('c256', 256), 'celery-task-meta-c1k', celeryDoc('c1k', 1024), 'celery-task-meta-c2k', celeryDoc('c2k', 2048), 'celery-task-meta-c4k', celeryDoc('c4k', 4096),
      ...ids.flatMap(id => [`celery-task-meta-${id}`, celeryDoc(id, 60)]))
    await admin.quit()
    const targets: Target[] = [
      { name: 'fetch 256 B', path: '/v1/results/c256', method: 'GET' },
      { name: 'fetch 1 KB', path: '/v1/results/c1k', method: 'GET' },
      { name: 'fetch 2 KB', path: '/v1/results/c2k', method: 'GET' },
      { name: 'fetch 4 KB', path: '/v1/results/c4k', method: 'GET' },
      { name: 'batchGet 1,000 ids', path: '/v1/results:batchGet', method: 'POST', body: JSON.stringify({ taskIds: ids }), amount: BATCH_REQUESTS }
    ]
    const pid = gw.pid ?? 0
    const run = (t: Target, encoding: string, duration = DURATION) => cannon({
      url: `${base}${t.path}`,
      method: t.method,
      connections: t.amount === undefined ? CONNECTIONS : 2,
      duration,
      pid,
      ...(t.amount === undefined ? {} : { amount: t.amount }),
      headers: { 'accept-encoding': encoding, ...(t.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(t.body === undefined ? {} : { body: t.body })
    })
    const figures = new Map<string, Figures[]>()
    for (const t of targets) await run(t, 'br', 1) // warm-up, unmeasured (a batch: its amount)
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order of the encodings, so none always runs first in a round.
      const order = round % 2 === 0 ? ENCODINGS : [...ENCODINGS].reverse()
      for (const t of targets) {
        for (const e of order) {
          const f = await run(t, e)
          figures.set(`${t.name}|${e}`, [...(figures.get(`${t.name}|${e}`) ?? []), f])
        }
      }
    }
    const cpuUs = (fs: Figures[]) => fs.reduce((a, f) => a + (f.cpuSeconds ?? NaN), 0) * 1e6 / fs.reduce((a, f) => a + f.requests, 0)
    const lines = [
      `compression, ${ROUNDS} rounds × ${DURATION} s per cell, ${CONNECTIONS} connections, one gateway (threshold 1 B); CPU = gateway process µs per request`,
      '| request | Accept-Encoding | body bytes | bytes vs identity | CPU µs/req | CPU vs identity | req/s | errors/non-2xx |',
      '|---|---|---:|---:|---:|---:|---:|---:|'
    ]
    for (const t of targets) {
      const idBytes = await wireBytes(base, t, 'identity')
      const idCpu = cpuUs(figures.get(`${t.name}|identity`) ?? [])
      for (const e of ENCODINGS) {
        const fs = figures.get(`${t.name}|${e}`) ?? []
        const bytes = await wireBytes(base, t, e)
        const cpu = cpuUs(fs)
        const rps = fs.reduce((a, f) => a + f.rps, 0) / fs.length
        lines.push(`| ${t.name} | ${e} | ${bytes} | ${(bytes / idBytes).toFixed(2)}x | ${cpu.toFixed(0)} | ${(cpu / idCpu).toFixed(2)}x | ${rps.toFixed(0)} | ${fs.reduce((n, f) => n + f.errors + f.non2xx, 0)} |`)
      }
    }
    lines.push('', 'the compression step alone, in the bench process (µs CPU per body)', '| body | bytes | gzip µs | br µs |', '|---|---:|---:|---:|')
    for (const t of targets) {
      const body = await identityBody(base, t)
      const c = compressCpuUs(body)
      lines.push(`| ${t.name} | ${body.length} | ${c.gzip.toFixed(1)} | ${c.br.toFixed(1)} |`)
    }
    return lines.join('\n') + '\n'
  } finally {
    await stopProcess(gw)
    await redis.stop()
  }
}

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  process.stdout.write(await compressBench())
}
