/**
 * npm run bench: one run, one machine, the gateway side by side with its references on the same Redis and
 * the same preloaded keys — redis-benchmark GET (the floor) and webdis GET (an HTTP gateway in C).
 * Writes bench/results/<timestamp>.{json,md}. Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50),
 * BENCH_WAITERS (10000).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { Redis } from 'ioredis'
import { startRedisServer } from '../src/redis/spawn.js'
import { cannon, redisBenchmark, startControl, startGateway, startWebdis, type Figures } from './lib.js'
import { wakeLatency } from './scenarios/wake.js'

const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const IDLE_SETTLE_MS = 45_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const roundSeconds = Math.max(1, Math.round(duration / 2))
const WARM_UP_SECONDS = 5

/** A Celery JSON meta document of about `bytes` bytes, written the way Celery 5.2 writes it. */
function celeryDoc (taskId: string, bytes: number): string {
  const base = { status: 'SUCCESS', result: { rows: [] as Array<{ id: number, name: string, score: number }> }, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: taskId }
  let doc = JSON.stringify(base)
  for (let i = 0; doc.length < bytes; i++) {
    base.result.rows.push({ id: i, name: `row-${i}`, score: i * 1.5 })
    doc = JSON.stringify(base)
  }
  return doc
}

type CannonTarget = Omit<Parameters<typeof cannon>[0], 'connections' | 'duration'>
interface Row { scenario: string, figures: Figures, rounds?: number[] }

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

/** One scenario's rounds as one row: median req/s and latencies, requests per CPU-second over all rounds. */
function combine (runs: Figures[]): Figures {
  const cpu = runs.every(f => f.cpuSeconds !== null) ? runs.reduce((a, f) => a + (f.cpuSeconds ?? 0), 0) : null
  return {
    requests: runs.reduce((a, f) => a + f.requests, 0),
    rps: median(runs.map(f => f.rps)),
    p50: median(runs.map(f => f.p50)),
    p99: median(runs.map(f => f.p99)),
    errors: runs.reduce((a, f) => a + f.errors, 0),
    non2xx: runs.reduce((a, f) => a + f.non2xx, 0),
    cpuSeconds: cpu
  }
}

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

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Math.round(Number(m?.[1] ?? 0) / 1024)
}

async function main (): Promise<void> {
  const redis = await startRedisServer()
  const client = new Redis(redis.port, '127.0.0.1')
  const sizes = { '200B': 200, '4KB': 4096, '100KB': 102400 } as const
  for (const [label, bytes] of Object.entries(sizes)) {
    await client.set(`celery-task-meta-bench-${label}`, celeryDoc(`bench-${label}`, bytes))
  }
  const batchIds = Array.from({ length: 1000 }, (_, i) => `batch-${i}`)
  const load = client.pipeline()
  for (const id of batchIds) load.set(`celery-task-meta-${id}`, celeryDoc(id, 200))
  await load.exec()
  const gw = await startGateway(redis.url, { RG_WAIT_MAX_SECONDS: '120', RG_HTTP_REQUEST_TIMEOUT_SECONDS: '0' })
  const gwStarted = Date.now()
  const webdis = await startWebdis(redis.port)
  const control = await startControl(redis.port)
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
    await new Promise(resolve => setTimeout(resolve, Math.max(0, gwStarted + IDLE_SETTLE_MS - Date.now())))
    const idleRss = rssMb(pid)
    // After an idle spell V8 has handed back its young generation; the first seconds of load run slower until
    // it has grown again (and until the JIT has compiled the hot paths). Warm up, unmeasured.
    await warm(`${gw.url}/v1/results/bench-4KB`)
    const storeBody = JSON.stringify({ state: 'SUCCESS', result: (JSON.parse(celeryDoc('x', 4096)) as { result: unknown }).result, ttlSeconds: 300 })
    const store = { method: 'PUT' as const, idReplacement: true, headers: { 'content-type': 'application/json' }, body: storeBody }
    // The shared machine drifts by tens of percent within a run: the headline scenarios run in rounds, each
    // round measuring webdis and the control right beside the gateway, and a ratio is the median of the
    // rounds' own ratios.
    const paired: Array<[string, CannonTarget]> = [
      ['reference: webdis GET 4KB', { url: `${webdis.url}/GET/celery-task-meta-bench-4KB`, pid: webdis.child.pid ?? 0 }],
      ['control: bare Fastify + ioredis passthrough 4KB', { url: `${control.url}/raw/bench-4KB`, pid: control.child.pid ?? 0 }],
      ['gateway: fetch view 4KB', { url: `${gw.url}/v1/results/bench-4KB`, pid }],
      ['gateway: fetch raw 4KB', { url: `${gw.url}/v1/results/bench-4KB/raw`, pid }],
      ['gateway: store 4KB', { url: `${gw.url}/v1/results/store-[<id>]`, pid, ...store }]
    ]
    const rounds: Array<Map<string, Figures>> = []
    for (let r = 0; r < ROUNDS; r++) {
      const round = new Map<string, Figures>()
      for (const [scenario, target] of paired) {
        process.stderr.write(`round ${r + 1}: ${scenario}…\n`)
        round.set(scenario, await cannon({ connections, duration: roundSeconds, ...target }))
      }
      rounds.push(round)
    }
    for (const [scenario] of paired) rows.push({ scenario, figures: combine(rounds.map(r => r.get(scenario)).filter(f => f !== undefined)), rounds: rounds.map(r => r.get(scenario)?.rps ?? NaN) })
    const pairedRatio = (a: string, b: string): number => median(rounds.map(r => (r.get(a)?.rps ?? NaN) / (r.get(b)?.rps ?? NaN)))
    const ratios = {
      viewVsWebdis: pairedRatio('gateway: fetch view 4KB', 'reference: webdis GET 4KB'),
      rawVsWebdis: pairedRatio('gateway: fetch raw 4KB', 'reference: webdis GET 4KB'),
      controlVsWebdis: pairedRatio('control: bare Fastify + ioredis passthrough 4KB', 'reference: webdis GET 4KB'),
      viewVsControl: pairedRatio('gateway: fetch view 4KB', 'control: bare Fastify + ioredis passthrough 4KB'),
      storeVsView: pairedRatio('gateway: store 4KB', 'gateway: fetch view 4KB')
    }
    await control.stop()
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
    process.stderr.write('wake latency…\n')
    const wake = await wakeLatency(gw.url, client, pid, Number(process.env.BENCH_WAITERS ?? 10000))
    const report = { ratios, rounds: ROUNDS, roundSeconds, batchVsSingles, date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, duration, connections, startRssMb: startRss, idleRssMb: idleRss, rows, wake }
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    const stamp = report.date.replace(/[:.]/g, '-')
    writeFileSync(new URL(`./results/${stamp}.json`, import.meta.url), JSON.stringify(report, null, 2))
    const md = markdown(report)
    writeFileSync(new URL(`./results/${stamp}.md`, import.meta.url), md)
    process.stdout.write(md)
  } finally {
    client.disconnect()
    await gw.stop()
    await webdis.stop()
    await control.stop()
    await redis.stop()
  }
}

interface Report {
  ratios: Record<'viewVsWebdis' | 'rawVsWebdis' | 'controlVsWebdis' | 'viewVsControl' | 'storeVsView', number>
  rounds: number
  roundSeconds: number
  batchVsSingles: { batchMs: number, singlesMs: number }
  date: string
  machine: Record<string, unknown>
  duration: number
  connections: number
  startRssMb: number
  idleRssMb: number
  rows: Row[]
  wake: Awaited<ReturnType<typeof wakeLatency>>
}

function markdown (r: Report): string {
  const rps = (prefix: string) => r.rows.find(x => x.scenario.startsWith(prefix))?.figures.rps ?? NaN
  const webdis = rps('reference: webdis')
  const rb = rps('reference: redis-benchmark')
  const x = (v: number) => `${v.toFixed(2)}×`
  const lines = [
    `Run ${r.date} — ${String(r.machine.cpus)} × ${String(r.machine.cpu)}, ${String(r.machine.memGiB)} GiB, Node ${String(r.machine.node)}; autocannon ${r.connections} connections; everything on this one machine.`,
    '',
    `Paired rounds (${r.rounds} × ${r.roundSeconds} s per scenario, webdis and the control measured in every round beside the gateway; ratio = median of the rounds' own ratios): ` +
      `fetch view 4 KB **${x(r.ratios.viewVsWebdis)} webdis**, fetch raw 4 KB **${x(r.ratios.rawVsWebdis)} webdis**, control ${x(r.ratios.controlVsWebdis)} webdis, ` +
      `view ${x(r.ratios.viewVsControl)} the control, store 4 KB **${x(r.ratios.storeVsView)} fetch view**.`,
    '',
    `Rows from rounds show the median req/s and latencies of the rounds (req/s per round in brackets); the other rows are single ${r.duration} s runs, compared with webdis's median.`,
    '',
    '| Scenario | req/s | × webdis | × redis-benchmark | p50 ms | p99 ms | req per CPU-second | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const { scenario, figures: f, rounds } of r.rows) {
    const perCpu = f.cpuSeconds === null || f.cpuSeconds === 0 ? '—' : Math.round(f.requests / f.cpuSeconds).toString()
    const each = rounds === undefined ? '' : ` (${rounds.map(v => Math.round(v)).join(', ')})`
    lines.push(`| ${scenario} | ${Math.round(f.rps)}${each} | ${(f.rps / webdis).toFixed(2)} | ${(f.rps / rb).toFixed(2)} | ${f.p50} | ${f.p99} | ${perCpu} | ${f.errors} / ${f.non2xx} |`)
  }
  const w = r.wake
  lines.push('', `Batch read of 1,000 ids: ${r.batchVsSingles.batchMs} ms per batchGet request vs ${r.batchVsSingles.singlesMs} ms for 1,000 single fetches (50 concurrent), mean of 10.`)
  lines.push('', `Waiting at scale, ${w.waiters} long-poll waiters on one gateway process, ${w.subscriberConnections} Redis subscriber connection(s); all answered: ${String(w.allReady)}.`,
    '', '| Wake latency, PUBLISH → HTTP answer | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|',
    `| paced: ${w.paced.size} results one at a time | ${w.paced.p50} | ${w.paced.p99} | ${w.paced.max} |`,
    `| burst: ${w.burst.size} results in one pipeline | ${w.burst.p50} | ${w.burst.p99} | ${w.burst.max} |`,
    '', `Gateway resident memory: ${r.startRssMb} MB just after start, ${r.idleRssMb} MB idle (${IDLE_SETTLE_MS / 1000} s after start, no request yet); ${w.rssBeforeMb} MB after the HTTP scenarios, ${w.rssWithWaitersMb} MB with the ${w.waiters} waiters established (${w.rssPerThousandMb} MB per 1,000 idle waiters).`, '')
  return lines.join('\n')
}

await main()
