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
import { ConfigSchema } from '../../src/config.js'
import { cannon, celeryDoc, combine, median, Rounds, rssMb, startFloor, storeBody4KB, type Figures, type Measure } from '../lib.js'
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

/** The bound of the cache-on gateways' caches (they run with RG_CACHE_MAX_BYTES's default); "full" is FULL of it. */
const CACHE_BYTES = Number(ConfigSchema.properties.RG_CACHE_MAX_BYTES.default)
const FULL = 0.95

/** What a gateway's answer cache holds now (result_gateway_cache_bytes on its /metrics). */
async function cacheBytes (p: Proc): Promise<number> {
  const m = /^result_gateway_cache_bytes (\S+)$/m.exec(await (await fetch(`${p.url}/metrics`)).text())
  return m === null ? 0 : Number(m[1])
}

/** Every command Redis has run so far (INFO commandstats), less the INFO calls that asked. */
async function commandsSoFar (redis: Redis): Promise<number> {
  const info = await redis.info('commandstats')
  let n = 0
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') n += Number(m[2])
  return n
}

export async function cacheBench (o: CacheBenchOptions): Promise<CacheReport> {
  const redis = new Redis(o.redisPort, '127.0.0.1')
  try {
    process.stderr.write('cache: preloading 100,000 keys of 4 KB…\n')
    await preload(redis)
    // No statistics walk (a SCAN of 100,000 keys) under the measurements: it would count as commands per request.
    const quiet = { RG_STATS_INTERVAL_SECONDS: '0' }
    const on = await o.startGateway(quiet)
    // The 100k raw reads get a cache-on gateway of their own: each 100k scenario is one kind of read, and a
    // cache shared by both would be measured switching from one kind's entries to the other's every round (a
    // view-only entry answers a raw read with a miss), a workload neither scenario describes.
    const onRaw = await o.startGateway(quiet)
    const off = await o.startGateway({ ...quiet, RG_CACHE_MAX_BYTES: '0' })
    // The floor copies the cache-on gateway's answers once it has answered them (and cached the hot key).
    for (const path of [`/v1/results/${HOT}`, `/v1/results/${HOT}/raw`, '/v1/results/no-such-task']) for (let i = 0; i < 3; i++) await fetch(`${on.url}${path}`).then(r => r.arrayBuffer())
    const floor = await startFloor(on.url)
    try {
      return await measure(o, redis, { on, onRaw, off }, floor)
    } finally {
      await floor.stop()
      await on.stop()
      await onRaw.stop()
      await off.stop()
    }
  } finally {
    redis.disconnect()
  }
}

async function measure (o: CacheBenchOptions, redis: Redis, { on, onRaw, off }: Record<'on' | 'onRaw' | 'off', Proc>, floor: Proc): Promise<CacheReport> {
  const bodyFile = join(tmpdir(), `rg-bench-store-${process.pid}.json`)
  writeFileSync(bodyFile, storeBody4KB())
  const pidOf = (p: Proc): number => p.child.pid ?? 0
  // Redis commands per request, from INFO commandstats around each measurement.
  const counted = (m: Measure): Measure => async seconds => {
    const before = await commandsSoFar(redis)
    const f = await m(seconds)
    return { ...f, redisCommandsPerRequest: (await commandsSoFar(redis) - before) / Math.max(1, f.requests) }
  }
  const w = (p: Proc, path: string, script: WrkOptions['script'] = 'fixed', args?: string[]): Measure =>
    counted(seconds => wrk({ url: `${p.url}${path}`, script, ...(args === undefined ? {} : { args }), connections: o.connections, duration: seconds, pid: pidOf(p) }))
  const random = (p: Proc, head: string, tail = ''): Measure => w(p, '/', 'random', [head, String(KEYS), tail])
  const ac = (p: Proc, path: string): Measure => counted(seconds => cannon({ url: `${p.url}${path}`, connections: o.connections, duration: seconds, pid: pidOf(p) }))
  const coldViewOn = random(on, '/v1/results/k-')
  const coldRawOn = random(onRaw, '/v1/results/k-', '/raw')
  const scenarios: Array<[string, Measure]> = [
    ['webdis GET, hot key 4KB', w(o.webdis, `/GET/celery-task-meta-${HOT}`)],
    ['gateway view, hot key, cache on', w(on, `/v1/results/${HOT}`)],
    ['gateway view, hot key, cache off', w(off, `/v1/results/${HOT}`)],
    ['floor: node:http answering the hot view from memory', w(floor, '/hot')],
    ['gateway raw, hot key, cache on', w(on, `/v1/results/${HOT}/raw`)],
    ['gateway raw, hot key, cache off', w(off, `/v1/results/${HOT}/raw`)],
    ['floor: node:http answering the hot raw from memory', w(floor, '/hot-raw')],
    ['webdis GET, missing key', w(o.webdis, '/GET/celery-task-meta-no-such-task')],
    ['gateway 404 poll, cache on', w(on, '/v1/results/no-such-task')],
    ['gateway 404 poll, cache off', w(off, '/v1/results/no-such-task')],
    ['floor: node:http answering the 404 from memory', w(floor, '/miss')],
    ['webdis GET, 100k keys', random(o.webdis, '/GET/celery-task-meta-k-')],
    ['control: the view contract\'s own work, 100k keys', random(o.control, '/view/k-')],
    ['gateway view, 100k keys, cache on', coldViewOn],
    ['gateway view, 100k keys, cache off', random(off, '/v1/results/k-')],
    ['control: the raw contract\'s own work, 100k keys', random(o.control, '/raw-contract/k-')],
    ['gateway raw, 100k keys, cache on', coldRawOn],
    ['gateway raw, 100k keys, cache off', random(off, '/v1/results/k-', '/raw')],
    ['gateway store 4KB, cache on', w(on, '/v1/results/st-', 'store', ['/v1/results/st-', bodyFile])],
    ['gateway store 4KB, cache off', w(off, '/v1/results/st-', 'store', ['/v1/results/st-', bodyFile])],
    ['control: the store contract\'s own work 4KB', w(o.control, '/store/cst-', 'store', ['/store/cst-', bodyFile])],
    // The load generator's bias: the same two processes under autocannon and under wrk.
    ['control: bare passthrough, hot key (wrk)', w(o.control, `/raw/${HOT}`)],
    ['webdis GET, hot key 4KB (autocannon)', ac(o.webdis, `/GET/celery-task-meta-${HOT}`)],
    ['control: bare passthrough, hot key (autocannon)', ac(o.control, `/raw/${HOT}`)]
  ]
  for (const [name, run] of scenarios) {
    if (name.startsWith('webdis') || name.includes('autocannon')) continue
    process.stderr.write(`cache warm-up: ${name}…\n`)
    await run(2)
  }
  // The 100k rows measure the cache as a long-running service has it, full: their warm-up goes on until the
  // cache holds FULL of its bound (in a few seconds on this machine; at most 30 s).
  for (const [p, run] of [[on, coldViewOn], [onRaw, coldRawOn]] as const) {
    for (let t = 0; t < 30 && await cacheBytes(p) < FULL * CACHE_BYTES; t += 2) await run(2)
  }
  const rounds = await Rounds.run(scenarios, o.rounds, o.roundSeconds, 'cache')
  const rss = rssMb(pidOf(on))
  const rows: CacheRow[] = scenarios.map(([scenario]) => {
    const each = rounds.of(scenario)
    return { scenario, rounds: each.map(f => f.rps), commandsPerRequest: median(each.map(f => f.redisCommandsPerRequest ?? NaN)), figures: combine(each) }
  })
  const ratio = (a: string, b: string): number => rounds.ratio(a, b)
  const ratios = {
    hotView: ratio('gateway view, hot key, cache on', 'webdis GET, hot key 4KB'),
    hotViewFloor: ratio('floor: node:http answering the hot view from memory', 'webdis GET, hot key 4KB'),
    hotRawFloor: ratio('floor: node:http answering the hot raw from memory', 'webdis GET, hot key 4KB'),
    poll404Floor: ratio('floor: node:http answering the 404 from memory', 'webdis GET, missing key'),
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
    storeVsColdViewOff: ratio('gateway store 4KB, cache off', 'gateway view, 100k keys, cache off'),
    storeContractVsColdView: ratio('control: the store contract\'s own work 4KB', 'gateway view, 100k keys, cache on'),
    storeContractVsViewContract: ratio('control: the store contract\'s own work 4KB', 'control: the view contract\'s own work, 100k keys'),
    controlVsWebdisWrk: ratio('control: bare passthrough, hot key (wrk)', 'webdis GET, hot key 4KB'),
    controlVsWebdisAutocannon: ratio('control: bare passthrough, hot key (autocannon)', 'webdis GET, hot key 4KB (autocannon)')
  }
  return { rows, ratios, cacheOnRssMb: rss, keys: KEYS }
}
