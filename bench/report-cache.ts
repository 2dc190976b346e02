/** The Markdown of #28's scenarios (bench/scenarios/cache.ts): the rows, then the targets with their verdicts. */
import type { CacheReport } from './scenarios/cache.js'

const x = (v: number | undefined) => v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(2)}×`
const us = (v: number | null | undefined) => v === null || v === undefined ? '—' : v.toFixed(0)

/**
 * `floor`: what nothing meeting the contract on Node can beat (bench/floor.ts; for the store, bare Fastify doing
 * only the store contract's work) — below the target, the target is out of reach.
 */
interface Target { what: string, measured: number | undefined, atLeast: number, ceiling?: string, floor?: number | undefined }

/** Redis commands per poll after the first: "≈ 0" is below this (a tracking PING a second, other processes' idling). */
const NEAR_ZERO = 0.01

export function cacheMarkdown (c: CacheReport, rounds: number, roundSeconds: number): string[] {
  const q = c.ratios
  const webdis = c.rows.find(r => r.scenario === 'webdis GET, hot key 4KB')?.figures.rps ?? NaN
  const lines = [
    '', `### #28: hot key, 100,000 keys, 404 poll, store; answer cache on and off (${rounds} × ${roundSeconds} s paired rounds, wrk -t1 -c50)`, '',
    `${c.keys.toLocaleString('en')} keys of 4 KB preloaded; the gateway with the cache on holds at most RG_CACHE_MAX_BYTES (default 64 MiB) of answers, far fewer than the set; its RSS after the rounds ${c.cacheOnRssMb} MB. The 100k raw reads with the cache on go to a second cache-on gateway, so that each 100k row measures a cache holding its own kind of answers (one gateway for both would switch every round from one kind's entries to the other's); their warm-up goes on until the cache holds 95 % of its bound. ` +
      'Redis commands per request: INFO commandstats around each measurement (median of the rounds). "× webdis hot": this row against the hot-key webdis row.',
    '',
    '| Scenario | req/s (rounds) | × webdis hot | p50 ms | p99 ms | CPU µs/req | load generator CPU µs/req | Redis commands / request | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const r of c.rows) {
    const f = r.figures
    lines.push(`| ${r.scenario} | ${Math.round(f.rps)} (${r.rounds.map(v => Math.round(v)).join(', ')}) | ${(f.rps / webdis).toFixed(2)} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} | ${us(f.cpuUsPerRequest)} | ${us(f.loadCpuUsPerRequest)} | ${r.commandsPerRequest.toFixed(3)} | ${f.errors} / ${f.non2xx} |`)
  }
  const cmds = (s: string) => c.rows.find(r => r.scenario === s)?.commandsPerRequest
  const polls = Math.max(...['gateway view, hot key, cache on', 'gateway raw, hot key, cache on', 'gateway 404 poll, cache on'].map(s => cmds(s) ?? NaN))
  const targets: Target[] = [
    { what: 'hot key view ≥ 1.5× webdis', measured: q.hotView, atLeast: 1.5, ceiling: `floor (node:http, the same answer from memory) ${x(q.hotViewFloor)}; cache off ${x(q.hotViewOff)}`, floor: q.hotViewFloor },
    { what: 'hot key raw ≥ 1.5× webdis', measured: q.hotRaw, atLeast: 1.5, ceiling: `floor ${x(q.hotRawFloor)}; cache off ${x(q.hotRawOff)}`, floor: q.hotRawFloor },
    { what: '404 poll ≥ 1.5× webdis (GET of a missing key)', measured: q.poll404, atLeast: 1.5, ceiling: `floor ${x(q.poll404Floor)}; cache off ${x(q.poll404Off)}`, floor: q.poll404Floor },
    { what: '100k keys view ≥ 0.9× webdis', measured: q.coldView, atLeast: 0.9, ceiling: `the view contract's own work on bare Fastify ${x(q.coldViewContract)}` },
    { what: '100k keys raw ≥ 1.0× webdis', measured: q.coldRaw, atLeast: 1.0, ceiling: `the raw contract's own work on bare Fastify ${x(q.coldRawContract)}` },
    { what: '100k keys view: cache on no slower than off', measured: q.coldViewOnVsOff, atLeast: 1.0 },
    { what: '100k keys raw: cache on no slower than off', measured: q.coldRawOnVsOff, atLeast: 1.0 },
    {
      what: 'store 4 KB ≥ 0.8× the 100k-key view',
      measured: q.storeVsColdView,
      atLeast: 0.8,
      ceiling: `the store contract's own work on bare Fastify ÷ this view ${x(q.storeContractVsColdView)} (÷ the view contract's own work ${x(q.storeContractVsViewContract)}); ` +
        `cache off: store ÷ view ${x(q.storeVsColdViewOff)}; store on ÷ off ${x(q.storeOnVsOff)}`,
      floor: q.storeContractVsColdView
    }
  ]
  lines.push('', '| Target | Measured | Control / reference in the same run | Verdict |', '|---|---:|---|---|')
  for (const t of targets) {
    const ok = t.measured !== undefined && t.measured >= t.atLeast
    const outOfReach = !ok && t.floor !== undefined && t.floor < t.atLeast
    lines.push(`| ${t.what} | ${x(t.measured)} | ${t.ceiling ?? '—'} | ${ok ? '**met**' : outOfReach ? 'out of reach: the floor / control itself is below the target' : 'not met'} |`)
  }
  lines.push(`| ≈ 0 Redis commands per poll after the first (view, raw, 404; cache on) | ${polls.toFixed(3)} | cache off: ${(cmds('gateway view, hot key, cache off') ?? NaN).toFixed(2)} | ${polls < NEAR_ZERO ? '**met**' : 'not met'} |`)
  const load = (scenario: string): string => us(c.rows.find(r => r.scenario === scenario)?.figures.loadCpuUsPerRequest)
  lines.push('', `Load generator bias (same rounds): the bare control ÷ webdis is ${x(q.controlVsWebdisWrk)} under wrk and ${x(q.controlVsWebdisAutocannon)} under autocannon. ` +
    `wrk's own CPU per request: ${load('webdis GET, hot key 4KB')} µs against webdis, ${load('gateway view, hot key, cache on')} µs against the gateway's hot view, ${load('webdis GET, 100k keys')} / ${load('gateway view, 100k keys, cache on')} µs on the 100k keys (webdis / gateway).`)
  return lines
}
