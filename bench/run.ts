/**
 * npm run bench: one run, one machine, the gateway side by side with its references on the same Redis and
 * the same preloaded keys — redis-benchmark GET (the floor) and webdis GET (an HTTP gateway in C).
 * Writes bench/results/<timestamp>.{json,md}. Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50),
 * BENCH_WAITERS (10000), BENCH_ROUNDS (5), BENCH_SOAK_REQUESTS (2000000; 0 = no soak), BENCH_SOAK_SEGMENTS (10),
 * BENCH_SCOPE (all; headline = the paired rounds only, for quick A/B work: not a full run; compress = only
 * bench/scenarios/compress.ts; webhooks = only bench/scenarios/webhooks.ts; tracing = only bench/scenarios/tracing.ts,
 * which a full run also ends with; cache = #28's scenarios only: hot key, 100,000 keys, 404 poll, store, answer
 * cache on and off, see scenarios/cache.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { Redis } from 'ioredis'
import { startRedisServer } from '../src/redis/spawn.js'
import { cannon, celeryDoc, combine, redisBenchmark, Rounds, rssMb, runWakeClient, startControl, startGateway, startWebdis, storeBody4KB, type Measure } from './lib.js'
import { markdown } from './report.js'
import { cacheMarkdown } from './report-cache.js'
import { cacheBench, type CacheReport } from './scenarios/cache.js'
import { soak } from './scenarios/soak.js'
import { tracingCost } from './scenarios/tracing.js'
import type { wakeLatency } from './scenarios/wake.js'

const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const IDLE_SETTLE_MS = 45_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const roundSeconds = Math.max(1, Math.round(duration / 2))
const WARM_UP_SECONDS = 5
const SOAK_REQUESTS = Number(process.env.BENCH_SOAK_REQUESTS ?? 2_000_000)
const SOAK_SEGMENTS = Number(process.env.BENCH_SOAK_SEGMENTS ?? 10)
const HEADLINE_ONLY = process.env.BENCH_SCOPE === 'headline'
const CACHE_ONLY = process.env.BENCH_SCOPE === 'cache'

type CannonTarget = Omit<Parameters<typeof cannon>[0], 'connections' | 'duration'>
type Row = import('./report.js').Row

/** One batchGet of 1,000 ids against 1,000 single GETs (50 at a time), each repeated; mean wall time. */
async function compareBatch (base: string, ids: string[]): Promise<{ batchMs: number, singlesMs: number }> {
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now()
    await fn()
    return performance.now() - t0
  }
  const batch = () => fetch(`${base}/v1/results:batchGet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ taskIds: ids }) }).then(r => r.arrayBuffer())
  const singles = async () => {
    const queue = [...ids]
    await Promise.all(Array.from({ length: 50 }, async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) await fetch(`${base}/v1/results/${id}`).then(r => r.arrayBuffer())
    }))
  }
  let batchMs = 0
  let singlesMs = 0
  for (let i = 0; i < 10; i++) {
    batchMs += await time(batch)
    singlesMs += await time(singles)
  }
  return { batchMs: Number((batchMs / 10).toFixed(1)), singlesMs: Number((singlesMs / 10).toFixed(1)) }
}

/** BENCH_SCOPE=cache: webdis, the control and #28's scenarios only; writes bench/results/<timestamp>-cache.{json,md}. */
async function cacheOnly (redisUrl: string, redisPort: number, gwEnv: Record<string, string>): Promise<void> {
  const webdis = track(await startWebdis(redisPort))
  const control = track(await startControl(redisPort))
  const cache: CacheReport = await cacheBench({ redisPort, connections, roundSeconds, rounds: ROUNDS, webdis, control, startGateway: env => startGateway(redisUrl, { ...gwEnv, ...env }) })
  const stamp = new Date().toISOString()
  const md = [`Run ${stamp} — BENCH_SCOPE=cache; ${cpus().length} × ${String(cpus()[0]?.model)}, Node ${process.version}; everything on this one machine.`, ...cacheMarkdown(cache, ROUNDS, roundSeconds), ''].join('\n')
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  const name = stamp.replace(/[:.]/g, '-')
  writeFileSync(new URL(`./results/${name}-cache.json`, import.meta.url), JSON.stringify(cache, null, 2))
  writeFileSync(new URL(`./results/${name}-cache.md`, import.meta.url), md)
  process.stdout.write(md)
}

/** Everything started is stopped at the end, also when a later start fails (no orphans on a failed run). */
const stops: Array<() => Promise<void>> = []
const track = <T extends { stop: () => Promise<void> }>(p: T): T => { stops.unshift(p.stop); return p }

async function main (): Promise<void> {
  const redis = await startRedisServer()
  if (process.env.BENCH_SCOPE === 'tracing') {
    stops.push(() => redis.stop())
    await tracingCost(redis.url, redis.port)
    return
  }
  const client = new Redis(redis.port, '127.0.0.1')
  const sizes = { '200B': 200, '4KB': 4096, '100KB': 102400 } as const
  for (const [label, bytes] of Object.entries(sizes)) {
    await client.set(`celery-task-meta-bench-${label}`, celeryDoc(`bench-${label}`, bytes))
  }
  const batchIds = Array.from({ length: 1000 }, (_, i) => `batch-${i}`)
  const load = client.pipeline()
  for (const id of batchIds) load.set(`celery-task-meta-${id}`, celeryDoc(id, 200))
  await load.exec()
  // Waiters wait up to 15 min: establishing 10,000 on a loaded machine took longer than 2 min.
  const gwEnv = { RG_WAIT_MAX_SECONDS: '900', RG_HTTP_REQUEST_TIMEOUT_SECONDS: '0' }
  stops.push(() => redis.stop())
  if (CACHE_ONLY) {
    client.disconnect()
    return await cacheOnly(redis.url, redis.port, gwEnv)
  }
  const gw = track(await startGateway(redis.url, gwEnv))
  const gwStarted = Date.now()
  const webdis = track(await startWebdis(redis.port))
  const control = track(await startControl(redis.port))
  // The same gateway as two workers (RG_WORKERS=2) on one port: its CPU is the primary's and the workers'.
  const gw2 = track(await startGateway(redis.url, { ...gwEnv, RG_WORKERS: '2' }))
  const pid = gw.child.pid ?? 0
  const startRss = rssMb(pid)
  const rows: Row[] = []
  const warm = async (url: string): Promise<void> => {
    process.stderr.write(`warm-up ${url}…\n`)
    await cannon({ url, connections, duration: WARM_UP_SECONDS })
  }
  const run = async (scenario: string, o: Omit<Parameters<typeof cannon>[0], 'connections' | 'duration'>) => {
    process.stderr.write(`${scenario}…\n`)
    rows.push({ scenario, figures: await cannon({ connections, duration, ...o }) })
  }
  try {
    rows.push({ scenario: 'reference: redis-benchmark GET 4KB', figures: await redisBenchmark(redis.port, 'celery-task-meta-bench-4KB', connections, 200000) })
    await warm(`${webdis.url}/GET/celery-task-meta-bench-4KB`)
    await warm(`${control.url}/raw/bench-4KB`)
    // Idle means idle long enough for V8's memory reducer to give back the start-up garbage (it waits for a
    // quiet spell); the gateway has had no request since it started.
    if (!HEADLINE_ONLY) await new Promise(resolve => setTimeout(resolve, Math.max(0, gwStarted + IDLE_SETTLE_MS - Date.now())))
    const idleRss = rssMb(pid)
    // After an idle spell V8 has handed back its young generation; the first seconds of load run slower until
    // it has grown again (and until the JIT has compiled the hot paths). Warm up, unmeasured.
    await warm(`${gw.url}/v1/results/bench-4KB`)
    await warm(`${gw2.url}/v1/results/bench-4KB`)
    const storeBody = storeBody4KB()
    const store = { method: 'PUT' as const, idReplacement: true, headers: { 'content-type': 'application/json' }, body: storeBody }
    // The shared machine drifts by tens of percent within a run: the headline scenarios run in rounds, each
    // round measuring webdis and the control right beside the gateway, and a ratio is the median of the
    // rounds' own ratios.
    const paired: Array<[string, CannonTarget]> = [
      ['reference: webdis GET 4KB', { url: `${webdis.url}/GET/celery-task-meta-bench-4KB`, pid: webdis.child.pid ?? 0 }],
      ['control: bare Fastify + ioredis passthrough 4KB', { url: `${control.url}/raw/bench-4KB`, pid: control.child.pid ?? 0 }],
      ['control: the fetch view contract\'s own work 4KB', { url: `${control.url}/view/bench-4KB`, pid: control.child.pid ?? 0 }],
      ['gateway: fetch view 4KB', { url: `${gw.url}/v1/results/bench-4KB`, pid }],
      ['control: the fetch raw contract\'s own work 4KB', { url: `${control.url}/raw-contract/bench-4KB`, pid: control.child.pid ?? 0 }],
      ['gateway: fetch raw 4KB', { url: `${gw.url}/v1/results/bench-4KB/raw`, pid }],
      ['control: the store contract\'s own work 4KB', { url: `${control.url}/store/cstore-[<id>]`, pid: control.child.pid ?? 0, ...store }],
      ['gateway: store 4KB', { url: `${gw.url}/v1/results/store-[<id>]`, pid, ...store }],
      ['gateway, RG_WORKERS=2: fetch view 4KB', { url: `${gw2.url}/v1/results/bench-4KB`, pid: gw2.child.pid ?? 0 }]
    ]
    const measures = paired.map(([scenario, target]): [string, Measure] => [scenario, seconds => cannon({ connections, duration: seconds, ...target })])
    const rounds = await Rounds.run(measures, ROUNDS, roundSeconds, 'headline')
    for (const [scenario] of paired) {
      const each = rounds.of(scenario)
      rows.push({ scenario, figures: combine(each), rounds: each.map(f => f.rps), cpuRounds: each.map(f => f.cpuUsPerRequest ?? null) })
    }
    const pairedRatio = (a: string, b: string): number => rounds.ratio(a, b)
    // CPU per request from each process's own counters: what the gateway costs beyond the bare control.
    const cpuRatio = (a: string, b: string): number => rounds.cpuRatio(a, b)
    const VIEW = 'gateway: fetch view 4KB'
    const CONTROL = 'control: bare Fastify + ioredis passthrough 4KB'
    const WEBDIS = 'reference: webdis GET 4KB'
    const CONTRACT = 'control: the fetch view contract\'s own work 4KB'
    const ratios = {
      viewVsWebdis: pairedRatio(VIEW, WEBDIS),
      rawVsWebdis: pairedRatio('gateway: fetch raw 4KB', WEBDIS),
      controlVsWebdis: pairedRatio(CONTROL, WEBDIS),
      viewVsControl: pairedRatio(VIEW, CONTROL),
      storeVsView: pairedRatio('gateway: store 4KB', VIEW),
      viewCpuVsControlCpu: cpuRatio(VIEW, CONTROL),
      contractVsWebdis: pairedRatio(CONTRACT, WEBDIS),
      contractCpuVsControlCpu: cpuRatio(CONTRACT, CONTROL),
      viewCpuVsContractCpu: cpuRatio(VIEW, CONTRACT),
      storeContractVsViewContract: pairedRatio('control: the store contract\'s own work 4KB', CONTRACT),
      rawContractVsWebdis: pairedRatio('control: the fetch raw contract\'s own work 4KB', WEBDIS),
      webdisCpuVsControlCpu: cpuRatio(WEBDIS, CONTROL),
      workers2VsWorkers1: pairedRatio('gateway, RG_WORKERS=2: fetch view 4KB', VIEW),
      workers2VsWebdis: pairedRatio('gateway, RG_WORKERS=2: fetch view 4KB', WEBDIS)
    }
    // #28's scenarios, while the control and webdis are still up (their gateways are their own).
    const cache = await cacheBench({ redisPort: redis.port, connections, roundSeconds, rounds: ROUNDS, webdis, control, startGateway: env => startGateway(redis.url, { ...gwEnv, ...env }) })
    await control.stop()
    await gw2.stop()
    const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }
    const write = (report: Parameters<typeof markdown>[0]): void => {
      mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
      const stamp = report.date.replace(/[:.]/g, '-')
      writeFileSync(new URL(`./results/${stamp}.json`, import.meta.url), JSON.stringify(report, null, 2))
      const md = markdown(report)
      writeFileSync(new URL(`./results/${stamp}.md`, import.meta.url), md)
      process.stdout.write(md)
    }
    if (HEADLINE_ONLY) {
      write({ ratios, rounds: ROUNDS, roundSeconds, batchVsSingles: null, date: new Date().toISOString(), machine, duration, connections, startRssMb: startRss, idleRssMb: idleRss, rows, wake: null, wakeControl: null, soak: null, idleSettleMs: IDLE_SETTLE_MS, cache })
      return
    }
    await run('gateway: fetch view 200B', { url: `${gw.url}/v1/results/bench-200B`, pid })
    await run('gateway: fetch view 100KB', { url: `${gw.url}/v1/results/bench-100KB`, pid })
    await run('gateway: fetch miss (404)', { url: `${gw.url}/v1/results/no-such-task`, pid })
    await run('gateway: batchGet 100 ids (200 B each)', {
      url: `${gw.url}/v1/results:batchGet`,
      method: 'POST',
      pid,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ taskIds: batchIds.slice(0, 100) })
    })
    process.stderr.write('batch of 1,000 vs 1,000 single fetches…\n')
    const batchVsSingles = await compareBatch(gw.url, batchIds)
    process.stderr.write('wake latency (client in its own process)…\n')
    const waiters = Number(process.env.BENCH_WAITERS ?? 10000)
    const wake = await runWakeClient<Awaited<ReturnType<typeof wakeLatency>>>(gw.url, redis.port, pid, waiters)
    // The same client against the bare long-poll of bench/control.ts: the floor of a wake-up on this machine.
    process.stderr.write('wake latency of the bare control…\n')
    const wakeControlProcess = track(await startControl(redis.port))
    const wakeControl = await runWakeClient<Awaited<ReturnType<typeof wakeLatency>>>(wakeControlProcess.url, redis.port, wakeControlProcess.child.pid ?? 0, waiters)
    await wakeControlProcess.stop()
    const result = (JSON.parse(celeryDoc('x', 4096)) as { result: unknown }).result
    const soakReport = SOAK_REQUESTS > 0
      ? await soak({ start: () => startGateway(redis.url, gwEnv), total: SOAK_REQUESTS, segments: SOAK_SEGMENTS, connections, result, rounds: ROUNDS })
      : null
    write({ ratios, rounds: ROUNDS, roundSeconds, batchVsSingles, date: new Date().toISOString(), machine, duration, connections, startRssMb: startRss, idleRssMb: idleRss, rows, wake, wakeControl, soak: soakReport, idleSettleMs: IDLE_SETTLE_MS, cache })
    await tracingCost(redis.url, redis.port)
  } finally {
    client.disconnect()
  }
}

try {
  // BENCH_SCOPE=compress: only the compression scenario (#25), which starts its own gateway and Redis.
  if (process.env.BENCH_SCOPE === 'compress') process.stdout.write(await (await import('./scenarios/compress.js')).compressBench())
  // BENCH_SCOPE=webhooks: only the webhook scenario (bench/scenarios/webhooks.ts), printed as JSON.
  else if (process.env.BENCH_SCOPE === 'webhooks') process.stdout.write(`${JSON.stringify(await (await import('./scenarios/webhooks.js')).webhookBench(), null, 2)}\n`)
  else await main()
} finally {
  for (const stop of stops.splice(0)) await stop()
}
