/**
 * What conditional reads cost on the hot fetch path: GET /v1/results/{id} (4 KB SUCCESS) on a gateway from
 * another tree (BENCH_BEFORE_ROOT, e.g. `git archive <commit>` unpacked, node_modules linked) against this tree,
 * in paired rounds (the shared host drifts), plus this tree answering If-None-Match with 304.
 *
 *   BENCH_BEFORE_ROOT=/tmp/before npx tsx bench/conditional.ts
 */
import { Redis } from 'ioredis'
import { freePort, startRedisServer, stopProcess } from '../src/redis/spawn.js'
import { cannon, spawnBench, waitForHttp, type Figures } from './lib.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const before = process.env.BENCH_BEFORE_ROOT
if (before === undefined) throw new Error('set BENCH_BEFORE_ROOT to the tree to compare with')
const here = new URL('../', import.meta.url).pathname

async function gateway (root: string, redisUrl: string) {
  const port = await freePort()
  const child = spawnBench(process.execPath, ['--import', 'tsx', `${root}/src/server.ts`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', RG_REDIS_URL: redisUrl, RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'warn', RG_AUTH_DISABLED: 'true', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0' }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`)
  return { url, pid: child.pid ?? 0, stop: () => stopProcess(child) }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const row = (name: string, fs: Figures[]) =>
  `| ${name} | ${median(fs.map(f => f.rps)).toFixed(0)} (${fs.map(f => f.rps.toFixed(0)).join(', ')}) | ${median(fs.map(f => f.p50))} | ${median(fs.map(f => f.p99))} | ${median(fs.map(f => f.requests / (f.cpuSeconds ?? NaN))).toFixed(0)} | ${fs.reduce((n, f) => n + f.errors + f.non2xx, 0)} |`

const redis = await startRedisServer([])
try {
  const admin = new Redis(redis.port, '127.0.0.1')
  const doc = { status: 'SUCCESS', result: { rows: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `row-${i}`, value: i * 1.5 })) }, traceback: null, children: [], date_done: '2026-01-01T00:00:00.000000+00:00', task_id: 'bench-4k' }
  await admin.set('celery-task-meta-bench-4k', JSON.stringify(doc), 'EX', 86400)
  await admin.quit()
  const a = await gateway(before, redis.url)
  const b = await gateway(here, redis.url)
  const path = '/v1/results/bench-4k'
  const etag = (await fetch(`${b.url}${path}`)).headers.get('etag') ?? ''
  const run = (g: { url: string, pid: number }, headers?: Record<string, string>, duration = DURATION) =>
    cannon({ url: `${g.url}${path}`, connections: CONNECTIONS, duration, pid: g.pid, ...(headers === undefined ? {} : { headers }) })
  for (const g of [a, b]) await run(g, undefined, 3) // warm-up, unmeasured
  const out = { before: [] as Figures[], after: [] as Figures[], notModified: [] as Figures[] }
  for (let i = 0; i < ROUNDS; i++) {
    out.before.push(await run(a))
    out.after.push(await run(b))
    out.notModified.push(await run(b, { 'if-none-match': etag }))
  }
  const ratio = median(out.after.map((f, i) => f.rps / (out.before[i]?.rps ?? NaN)))
  process.stdout.write([
    `fetch view 4 KB, ${ROUNDS} paired rounds × ${DURATION} s, ${CONNECTIONS} connections; after/before = ${ratio.toFixed(3)} (median of per-round ratios)`,
    '| scenario | req/s median (rounds) | p50 ms | p99 ms | req per CPU-s | errors/non-2xx |',
    '|---|---:|---:|---:|---:|---:|',
    row('before (no ETag)', out.before),
    row('after (ETag + Cache-Control, GET+TTL pipelined)', out.after),
    row('after, If-None-Match → 304', out.notModified)
  ].join('\n') + '\n')
  await a.stop()
  await b.stop()
} finally {
  await redis.stop()
}
