/**
 * Soak: does the gateway slow down or grow with age? A fresh gateway process serves `total` requests of a
 * mixed load — fetch view 4 KB, store 4 KB (PROGRESS on one key, so Redis does not grow), wait on a ready
 * result (subscribe, read, unsubscribe) — in equal segments; each segment reports CPU µs per request (the
 * process's own counters) and resident memory. Then a second, fresh process is started and warmed, and the
 * aged and the fresh one are measured in alternating paired rounds (which of the two goes first alternates
 * too, so neither always runs on the heels of the other): the headline is the median of the rounds' own
 * ratios of CPU per request (aged ÷ fresh), as everywhere in this bench.
 */
import type { ChildProcess } from 'node:child_process'
import { cannon, rssMb, type Figures } from '../lib.js'

interface Gateway { url: string, child: ChildProcess, stop: () => Promise<void> }

export interface SoakSegment { requests: number, seconds: number, rps: number, cpuUsPerRequest: number | null, rssMb: number, errors: number, non2xx: number }

export interface SoakReport {
  total: number
  segments: SoakSegment[]
  paired: Array<{ aged: number | null, fresh: number | null }>
  agedVsFresh: number
  rssAgedMb: number
  rssFreshMb: number
}

function mix (storeBody: string): NonNullable<Parameters<typeof cannon>[0]['requests']> {
  return [
    { method: 'GET', path: '/v1/results/bench-4KB' },
    { method: 'PUT', path: '/v1/results/soak-progress', body: storeBody, headers: { 'content-type': 'application/json' } },
    { method: 'GET', path: '/v1/results/bench-4KB/wait?timeoutSeconds=0' }
  ]
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

export async function soak (o: { start: () => Promise<Gateway>, total: number, segments: number, connections: number, result: unknown, rounds: number }): Promise<SoakReport> {
  const storeBody = JSON.stringify({ state: 'PROGRESS', result: o.result, ttlSeconds: 300 })
  const requests = mix(storeBody)
  const aged = await o.start()
  const agedPid = aged.child.pid ?? 0
  const per = Math.max(1000, Math.round(o.total / o.segments))
  const segments: SoakSegment[] = []
  let fresh: Gateway | undefined
  try {
    for (let done = 0; done < o.total; done += per) {
      const t0 = performance.now()
      const f: Figures = await cannon({ url: aged.url, connections: o.connections, duration: 0, amount: Math.min(per, o.total - done), requests, pid: agedPid })
      const seconds = (performance.now() - t0) / 1000
      segments.push({ requests: f.requests, seconds: Number(seconds.toFixed(1)), rps: Math.round(f.requests / seconds), cpuUsPerRequest: round(f.cpuUsPerRequest), rssMb: rssMb(agedPid), errors: f.errors, non2xx: f.non2xx })
      process.stderr.write(`soak: ${done + f.requests} requests, ${String(segments.at(-1)?.cpuUsPerRequest)} µs CPU/req, ${String(segments.at(-1)?.rssMb)} MB\n`)
    }
    fresh = await o.start()
    const freshPid = fresh.child.pid ?? 0
    // The fresh process gets the same JIT warm-up as any process in this bench before it is measured.
    await cannon({ url: fresh.url, connections: o.connections, duration: 5, requests })
    const amount = Math.min(per, 100_000)
    const paired: SoakReport['paired'] = []
    const measure = (g: Gateway, pid: number): Promise<Figures> => cannon({ url: g.url, connections: o.connections, duration: 0, amount, requests, pid })
    for (let r = 0; r < o.rounds; r++) {
      let a: Figures, b: Figures
      if (r % 2 === 0) {
        a = await measure(aged, agedPid)
        b = await measure(fresh, freshPid)
      } else {
        b = await measure(fresh, freshPid)
        a = await measure(aged, agedPid)
      }
      paired.push({ aged: round(a.cpuUsPerRequest), fresh: round(b.cpuUsPerRequest) })
    }
    return {
      total: o.total,
      segments,
      paired,
      agedVsFresh: Number(median(paired.map(p => (p.aged ?? NaN) / (p.fresh ?? NaN))).toFixed(3)),
      rssAgedMb: rssMb(agedPid),
      rssFreshMb: rssMb(freshPid)
    }
  } finally {
    await aged.stop()
    await fresh?.stop()
  }
}

function round (v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Number(v.toFixed(1))
}
