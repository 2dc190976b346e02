/**
 * #28's scenarios, what a user sees: a hot key polled (view, raw, the 404 of a task not done yet), 100,000
 * distinct keys read at random (nothing hot, far more than the answer cache holds), and 4 KB stores; the
 * gateway with the answer cache on (the default) and off (RG_CACHE_MAX_BYTES=0), webdis on the same keys and
 * the contract controls, all in paired rounds; Redis commands per request from INFO commandstats around each
 * measurement. Load from wrk (bench/wrk/*.lua), whose bias is checked in the same rounds: webdis and the bare
 * control measured with autocannon and with wrk, their ratio compared.
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { cannon, celeryDoc, rssMb, type Figures } from '../lib.js'
import { wrk, type WrkOptions } from '../wrk.js'

interface Proc { url: string, child: ChildProcess, stop: () => Promise<void> }

export interface CacheBenchOptions {
  redisPort: number
  connections: number
  roundSeconds: number
  rounds: number
  webdis: Proc
  control: Proc
  startGateway: (env: Record<string, string>) => Promise<Proc>
}

export const KEYS = 100_000
const HOT = 'bench-4KB'

export interface CacheRow { scenario: string, figures: Figures, rounds: number[], commandsPerRequest: number }
export interface CacheReport {
  rows: CacheRow[]
  ratios: Record<string, number>
  cacheOnRssMb: number
  keys: number
}

/** 100,000 Celery documents of 4 KB, k-0 … k-99999 (one template, the task id substituted). */
async function preload (redis: Redis): Promise<void> {
  if (await redis.exists(`celery-task-meta-k-${KEYS - 1}`) === 1) return
  const template = celeryDoc('__ID__', 4096)
  for (let i = 0; i < KEYS; i += 2000) {
    const p = redis.pipeline()
    for (let j = i; j < Math.min(KEYS, i + 2000); j++) p.set(`celery-task-meta-k-${j}`, template.replace('__ID__', `k-${j}`))
    await p.exec()
  }
}

/** Every command Redis has run so far (INFO commandstats), less the INFO calls that asked. */
async function commandsSoFar (redis: Redis): Promise<number> {
  const info = await redis.info('commandstats')
  let n = 0
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') n += Number(m[2])
  return n
}

function median (xs: number[]): number {
  const s = [...xs].filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

type Measure = (seconds: number) => Promise<Figures>

export async function cacheBench (o: CacheBenchOptions): Promise<CacheReport> {
  const redis = new Redis(o.redisPort, '127.0.0.1')
  try {
    process.stderr.write('cache: preloading 100,000 keys of 4 KB…\n')
    await preload(redis)
    // No statistics walk (a SCAN of 100,000 keys) under the measurements: it would count as commands per request.
    const quiet = { RG_STATS_INTERVAL_SECONDS: '0' }
    const on = await o.startGateway(quiet)
    const off = await o.startGateway({ ...quiet, RG_CACHE_MAX_BYTES: '0' })
    try {
      return await measure(o, redis, on, off)
    } finally {
      await on.stop()
      await off.stop()
    }
  } finally {
    redis.disconnect()
  }
}

async function measure (o: CacheBenchOptions, redis: Redis, on: Proc, off: Proc): Promise<CacheReport> {
  const bodyFile = join(tmpdir(), `rg-bench-store-${process.pid}.json`)
  writeFileSync(bodyFile, JSON.stringify({ state: 'SUCCESS', result: (JSON.parse(celeryDoc('x', 4096)) as { result: unknown }).result, ttlSeconds: 60 }))
  const pidOf = (p: Proc): number => p.child.pid ?? 0
  const w = (p: Proc, path: string, script: WrkOptions['script'] = 'fixed', args?: string[]): Measure => seconds =>
    wrk({ url: `${p.url}${path}`, script, ...(args === undefined ? {} : { args }), connections: o.connections, duration: seconds, pid: pidOf(p) })
  const random = (p: Proc, head: string, tail = ''): Measure => w(p, '/', 'random', [head, String(KEYS), tail])
  const ac = (p: Proc, path: string): Measure => seconds => cannon({ url: `${p.url}${path}`, connections: o.connections, duration: seconds, pid: pidOf(p) })
  const scenarios: Array<[string, Measure]> = [
    ['webdis GET, hot key 4KB', w(o.webdis, `/GET/celery-task-meta-${HOT}`)],
    ['gateway view, hot key, cache on', w(on, `/v1/results/${HOT}`)],
    ['gateway view, hot key, cache off', w(off, `/v1/results/${HOT}`)],
    ['gateway raw, hot key, cache on', w(on, `/v1/results/${HOT}/raw`)],
    ['gateway raw, hot key, cache off', w(off, `/v1/results/${HOT}/raw`)],
    ['webdis GET, missing key', w(o.webdis, '/GET/celery-task-meta-no-such-task')],
    ['gateway 404 poll, cache on', w(on, '/v1/results/no-such-task')],
    ['gateway 404 poll, cache off', w(off, '/v1/results/no-such-task')],
    ['webdis GET, 100k keys', random(o.webdis, '/GET/celery-task-meta-k-')],
    ['control: the view contract\'s own work, 100k keys', random(o.control, '/view/k-')],
    ['gateway view, 100k keys, cache on', random(on, '/v1/results/k-')],
    ['gateway view, 100k keys, cache off', random(off, '/v1/results/k-')],
    ['control: the raw contract\'s own work, 100k keys', random(o.control, '/raw-contract/k-')],
    ['gateway raw, 100k keys, cache on', random(on, '/v1/results/k-', '/raw')],
    ['gateway raw, 100k keys, cache off', random(off, '/v1/results/k-', '/raw')],
    ['gateway store 4KB, cache on', w(on, '/v1/results/st-', 'store', ['/v1/results/st-', bodyFile])],
    ['gateway store 4KB, cache off', w(off, '/v1/results/st-', 'store', ['/v1/results/st-', bodyFile])],
    // The load generator's bias: the same two processes under autocannon and under wrk.
    ['control: bare passthrough, hot key (wrk)', w(o.control, `/raw/${HOT}`)],
    ['webdis GET, hot key 4KB (autocannon)', ac(o.webdis, `/GET/celery-task-meta-${HOT}`)],
    ['control: bare passthrough, hot key (autocannon)', ac(o.control, `/raw/${HOT}`)]
  ]
  for (const [name, run] of scenarios.slice(1, 17)) {
    process.stderr.write(`cache warm-up: ${name}…\n`)
    await run(2)
  }
  const rounds: Array<Map<string, { f: Figures, commands: number }>> = []
  for (let r = 0; r < o.rounds; r++) {
    const round = new Map<string, { f: Figures, commands: number }>()
    for (const [name, run] of scenarios) {
      process.stderr.write(`cache round ${r + 1}: ${name}…\n`)
      const before = await commandsSoFar(redis)
      const f = await run(o.roundSeconds)
      round.set(name, { f, commands: (await commandsSoFar(redis) - before) / Math.max(1, f.requests) })
    }
    rounds.push(round)
  }
  const rss = rssMb(pidOf(on))
  const rows: CacheRow[] = scenarios.map(([scenario]) => {
    const each = rounds.map(r => r.get(scenario)).filter(x => x !== undefined)
    const figures = each.map(x => x.f)
    const cpu = figures.every(f => f.cpuSeconds !== null) ? figures.reduce((a, f) => a + (f.cpuSeconds ?? 0), 0) : null
    const requests = figures.reduce((a, f) => a + f.requests, 0)
    return {
      scenario,
      rounds: figures.map(f => f.rps),
      commandsPerRequest: median(each.map(x => x.commands)),
      figures: {
        requests,
        rps: median(figures.map(f => f.rps)),
        p50: median(figures.map(f => f.p50)),
        p99: median(figures.map(f => f.p99)),
        errors: figures.reduce((a, f) => a + f.errors, 0),
        non2xx: figures.reduce((a, f) => a + f.non2xx, 0),
        cpuSeconds: cpu,
        cpuUsPerRequest: cpu === null ? null : cpu * 1e6 / Math.max(1, requests)
      }
    }
  })
  const ratio = (a: string, b: string): number => median(rounds.map(r => (r.get(a)?.f.rps ?? NaN) / (r.get(b)?.f.rps ?? NaN)))
  const ratios = {
    hotView: ratio('gateway view, hot key, cache on', 'webdis GET, hot key 4KB'),
    hotRaw: ratio('gateway raw, hot key, cache on', 'webdis GET, hot key 4KB'),
    poll404: ratio('gateway 404 poll, cache on', 'webdis GET, missing key'),
    hotViewOff: ratio('gateway view, hot key, cache off', 'webdis GET, hot key 4KB'),
    hotRawOff: ratio('gateway raw, hot key, cache off', 'webdis GET, hot key 4KB'),
    poll404Off: ratio('gateway 404 poll, cache off', 'webdis GET, missing key'),
    coldView: ratio('gateway view, 100k keys, cache on', 'webdis GET, 100k keys'),
    coldRaw: ratio('gateway raw, 100k keys, cache on', 'webdis GET, 100k keys'),
    coldViewOnVsOff: ratio('gateway view, 100k keys, cache on', 'gateway view, 100k keys, cache off'),
    coldRawOnVsOff: ratio('gateway raw, 100k keys, cache on', 'gateway raw, 100k keys, cache off'),
    coldViewContract: ratio('control: the view contract\'s own work, 100k keys', 'webdis GET, 100k keys'),
    coldRawContract: ratio('control: the raw contract\'s own work, 100k keys', 'webdis GET, 100k keys'),
    storeVsColdView: ratio('gateway store 4KB, cache on', 'gateway view, 100k keys, cache on'),
    storeOnVsOff: ratio('gateway store 4KB, cache on', 'gateway store 4KB, cache off'),
    controlVsWebdisWrk: ratio('control: bare passthrough, hot key (wrk)', 'webdis GET, hot key 4KB'),
    controlVsWebdisAutocannon: ratio('control: bare passthrough, hot key (autocannon)', 'webdis GET, hot key 4KB (autocannon)')
  }
  return { rows, ratios, cacheOnRssMb: rss, keys: KEYS }
}
