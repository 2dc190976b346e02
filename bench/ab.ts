/**
 * A/B of two builds of the gateway on one Redis, in alternating rounds (this machine drifts too much for
 * runs minutes apart): fetch view 4 KB req/s and CPU µs per request, and wake bursts measured by the
 * separate-process wake client. Usage:
 *   npx tsx bench/ab.ts <dist dir A> <dist dir B>     (e.g. a `git worktree add --detach` of the base, built)
 * Environment: AB_ROUNDS (3), AB_SECONDS (5), AB_WAITERS (3000: 1,000 paced, two bursts of 1,000; 0 = fetch
 * only), AB_SCENARIO (fetch; store = PUT of a 4 KB PROGRESS document over a PROGRESS one, the common store
 * path, with Redis's own CPU per store beside the gateway's: the store script runs there), AB_ENV (extra gateway variables for both builds, as JSON). The summary (medians of the rounds' own B/A
 * ratios) is printed and written to bench/results/ab-<timestamp>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { freePort, startRedisServer, stopProcess } from '../src/redis/spawn.js'
import { cannon, celeryDoc, runWakeClient, spawnBench, treeCpuSeconds, waitForHttp } from './lib.js'
import type { wakeLatency } from './scenarios/wake.js'

const [distA = '', distB = ''] = process.argv.slice(2)
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3)
const SECONDS = Number(process.env.AB_SECONDS ?? 5)
const WAITERS = Number(process.env.AB_WAITERS ?? 3000)
const EXTRA_ENV = JSON.parse(process.env.AB_ENV ?? '{}') as Record<string, string>
const STORE = process.env.AB_SCENARIO === 'store'
// The common store path: a 4 KB PROGRESS document replacing a PROGRESS one (STARTED/PROGRESS → … → SUCCESS).
const STORE_BODY = JSON.stringify({ state: 'PROGRESS', result: { pad: 'x'.repeat(4000) } })
const load = (url: string, pid?: number) => cannon({
  url: `${url}/v1/results/${STORE ? 'ab-store-4KB' : 'ab-4KB'}`,
  connections: 50,
  duration: SECONDS,
  ...(pid === undefined ? {} : { pid }),
  ...(STORE ? { method: 'PUT' as const, body: STORE_BODY, headers: { 'content-type': 'application/json' } } : {})
})

async function start (dist: string, redisUrl: string) {
  const port = await freePort()
  const child = spawnBench(process.execPath, [`${dist}/server.js`], {
    env: { PATH: process.env.PATH ?? '', RG_REDIS_URL: redisUrl, RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'warn', RG_AUTH_DISABLED: 'true', RG_WAIT_MAX_SECONDS: '120', RG_HTTP_REQUEST_TIMEOUT_SECONDS: '0', ...EXTRA_ENV }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`)
  return { url, pid: child.pid ?? 0, stop: () => stopProcess(child) }
}

const redis = await startRedisServer()
const client = new Redis(redis.port, '127.0.0.1')
// The same 4 KB document as npm run bench's fetch view 4KB.
await client.set('celery-task-meta-ab-4KB', celeryDoc('ab-4KB', 4096))
const gws = { A: await start(distA, redis.url), B: await start(distB, redis.url) }
type Wake = Awaited<ReturnType<typeof wakeLatency>>
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN }
const lines: string[] = []
const say = (line: string): void => { lines.push(line); process.stdout.write(`${line}\n`) }
const ratios = { rps: [] as number[], cpu: [] as number[], redisCpu: [] as number[] }
try {
  say(`A = ${distA}, B = ${distB}; ${ROUNDS} rounds of ${SECONDS} s, ${STORE ? 'store 4 KB PROGRESS' : 'fetch view 4 KB'}, 50 connections; ${new Date().toISOString()}`)
  for (const g of Object.values(gws)) await load(g.url)
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which build goes first, so a drift within the round does not always favour the same one.
    const order = r % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)
    const round: Partial<Record<'A' | 'B', { rps: number, cpu: number, redisCpu: number }>> = {}
    for (const name of order) {
      const g = gws[name]
      const redisCpu0 = treeCpuSeconds(redis.process.pid ?? 0)
      const f = await load(g.url, g.pid)
      const redisCpu = (treeCpuSeconds(redis.process.pid ?? 0) - redisCpu0) * 1e6 / Math.max(1, f.requests)
      round[name] = { rps: f.rps, cpu: f.cpuUsPerRequest ?? NaN, redisCpu }
      let wake = ''
      if (WAITERS > 0 && !STORE) {
        const w = await runWakeClient<Wake>(g.url, redis.port, g.pid, WAITERS)
        wake = `; wake paced p99 ${w.paced.p99} ms, burst small p50/p99 ${w.burst.p50}/${w.burst.p99} ms (${w.burst.cpuUsPerWake} µs CPU/wake), burst ${w.burstBig.docBytes} B p50/p99 ${w.burstBig.p50}/${w.burstBig.p99} ms (${w.burstBig.cpuUsPerWake} µs CPU/wake)`
      }
      say(`round ${r + 1} ${name}: ${STORE ? 'store' : 'fetch view'} ${Math.round(f.rps)} req/s, p99 ${f.p99} ms, ${f.cpuUsPerRequest?.toFixed(1) ?? '—'} µs CPU/req (Redis ${redisCpu.toFixed(1)} µs/req), errors ${f.errors}, non-2xx ${f.non2xx}${wake}`)
    }
    if (round.A !== undefined && round.B !== undefined) {
      ratios.rps.push(round.B.rps / round.A.rps)
      ratios.cpu.push(round.B.cpu / round.A.cpu)
      ratios.redisCpu.push(round.B.redisCpu / round.A.redisCpu)
    }
  }
  say(`B/A, median of the rounds' ratios: req/s ${median(ratios.rps).toFixed(3)} (rounds ${ratios.rps.map(x => x.toFixed(3)).join(', ')}); CPU µs/req ${median(ratios.cpu).toFixed(3)} (rounds ${ratios.cpu.map(x => x.toFixed(3)).join(', ')}); Redis CPU µs/req ${median(ratios.redisCpu).toFixed(3)} (rounds ${ratios.redisCpu.map(x => x.toFixed(3)).join(', ')})`)
  mkdirSync(new URL('results/', import.meta.url), { recursive: true })
  const file = new URL(`results/ab-${new Date().toISOString().replace(/[:.]/g, '-')}.md`, import.meta.url)
  writeFileSync(file, `# A/B\n\nCommand: \`npx tsx bench/ab.ts ${distA} ${distB}\` (AB_ROUNDS=${ROUNDS} AB_SECONDS=${SECONDS} AB_WAITERS=${WAITERS} AB_SCENARIO=${STORE ? 'store' : 'fetch'})\n\n${lines.map(l => `- ${l}`).join('\n')}\n`)
  process.stdout.write(`written to ${file.pathname}\n`)
} finally {
  client.disconnect()
  for (const g of Object.values(gws)) await g.stop()
  await redis.stop()
}
