/**
 * What tracing costs: CPU µs per fetch (view, 4 KB) of five gateways on one Redis, in alternating rounds of
 * the same run: `today` (node dist/server.js, no preload) twice (two processes of one build: the noise
 * floor), `off` (the tracing preload, no endpoint: what npm
 * start runs untraced), `ratio 0.1` (parentbased_traceidratio 0.1) and `always_on`, the last two exporting
 * http/protobuf to a local OTLP receiver (this process; its CPU is not counted). Ratios are each round's own,
 * against the mean of that round's two `today` processes; the summary is their median.
 *   npm run build && npx tsx bench/scenarios/tracing.ts     (or BENCH_SCOPE=tracing npm run bench)
 * Environment: TRACING_ROUNDS (3), TRACING_SECONDS (5), BENCH_CONNECTIONS (50).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { freePort, startRedisServer, stopProcess } from '../../src/redis/spawn.js'
import { cannon, celeryDoc, spawnBench, waitForHttp } from '../lib.js'

const ROUNDS = Number(process.env.TRACING_ROUNDS ?? 3)
const SECONDS = Number(process.env.TRACING_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const DIST = new URL('../../dist/', import.meta.url).pathname
const KEY_ID = 'tracing-4KB'

type Variant = 'today' | 'today, 2nd process' | 'off' | 'ratio 0.1' | 'always_on'

/** A collector stand-in: reads and acknowledges every export, counts the bytes. */
async function receiver (): Promise<{ url: string, bytes: () => number, close: () => Promise<void> }> {
  let bytes = 0
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, bytes: () => bytes, close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

async function start (redisUrl: string, preload: boolean, otel: Record<string, string>) {
  const port = await freePort()
  const args = [...(preload ? ['--import', `${DIST}tracing/register.js`] : []), `${DIST}server.js`]
  const child = spawnBench(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', RG_REDIS_URL: redisUrl, RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'warn', RG_AUTH_DISABLED: 'true', ...otel }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`)
  return { url, pid: child.pid ?? 0, stop: () => stopProcess(child) }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN }

/** Runs the scenario on the given Redis (the 4 KB document is written here); returns the report's lines. */
export async function tracingCost (redisUrl: string, redisPort: number): Promise<string[]> {
  const client = new Redis(redisPort, '127.0.0.1')
  await client.set(`celery-task-meta-${KEY_ID}`, celeryDoc(KEY_ID, 4096))
  client.disconnect()
  const otlp = await receiver()
  const traced = (sampler: string, arg?: string): Record<string, string> => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER: sampler, ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg })
  })
  const gws: Partial<Record<Variant, Awaited<ReturnType<typeof start>>>> = {}
  const lines: string[] = []
  const say = (line: string): void => { lines.push(line); process.stdout.write(`${line}\n`) }
  try {
    gws.today = await start(redisUrl, false, {})
    // The same build again: how far two identical processes differ on this machine (the noise floor for `off`).
    gws['today, 2nd process'] = await start(redisUrl, false, {})
    gws.off = await start(redisUrl, true, {})
    gws['ratio 0.1'] = await start(redisUrl, true, traced('parentbased_traceidratio', '0.1'))
    gws.always_on = await start(redisUrl, true, traced('always_on'))
    const variants = Object.keys(gws) as Variant[]
    say(`tracing cost: fetch view 4 KB, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per variant, alternating order; ${new Date().toISOString()}`)
    for (const v of variants) await cannon({ url: `${gws[v]?.url ?? ''}/v1/results/${KEY_ID}`, connections: CONNECTIONS, duration: 2 })
    const cpu = Object.fromEntries(variants.map(v => [v, [] as number[]])) as Record<Variant, number[]>
    const rps = Object.fromEntries(variants.map(v => [v, [] as number[]])) as Record<Variant, number[]>
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? variants : [...variants].reverse()
      for (const v of order) {
        const g = gws[v]
        if (g === undefined) continue
        const f = await cannon({ url: `${g.url}/v1/results/${KEY_ID}`, connections: CONNECTIONS, duration: SECONDS, pid: g.pid })
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${v}: ${f.errors} errors, ${f.non2xx} non-2xx`)
        cpu[v].push(f.cpuUsPerRequest ?? NaN)
        rps[v].push(f.rps)
      }
      say(`round ${r + 1}: ${variants.map(v => `${v} ${cpu[v][r]?.toFixed(1) ?? '—'} µs CPU/req (${Math.round(rps[v][r] ?? 0)} req/s)`).join(', ')}`)
    }
    // Each round's reference: the mean of the two untraced processes of that round.
    const reference = cpu.today.map((c, i) => (c + (cpu['today, 2nd process'][i] ?? NaN)) / 2)
    for (const v of variants) {
      const ratios = cpu[v].map((c, i) => c / (reference[i] ?? NaN))
      say(`${v}: median ${median(cpu[v]).toFixed(1)} µs CPU/req, ${Math.round(median(rps[v]))} req/s; CPU vs today (mean of the two) ${median(ratios).toFixed(3)}x (rounds ${ratios.map(x => x.toFixed(3)).join(', ')})`)
    }
    say(`OTLP bytes received: ${otlp.bytes()}`)
  } finally {
    for (const g of Object.values(gws)) await g.stop()
    await otlp.close()
  }
  return lines
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const redis = await startRedisServer()
  try {
    const lines = await tracingCost(redis.url, redis.port)
    mkdirSync(new URL('../results/', import.meta.url), { recursive: true })
    const file = new URL(`../results/tracing-${new Date().toISOString().replace(/[:.]/g, '-')}.md`, import.meta.url)
    writeFileSync(file, `# Tracing cost\n\nCommand: \`npx tsx bench/scenarios/tracing.ts\` (TRACING_ROUNDS=${ROUNDS} TRACING_SECONDS=${SECONDS})\n\n${lines.map(l => `- ${l}`).join('\n')}\n`)
    process.stdout.write(`written to ${file.pathname}\n`)
  } finally {
    await redis.stop()
  }
}
