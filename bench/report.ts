/** The Markdown summary of one `npm run bench` run (the JSON file beside it holds every figure). */
import type { Figures } from './lib.js'
import type { CacheReport } from './scenarios/cache.js'
import type { SoakReport } from './scenarios/soak.js'
import { cacheMarkdown } from './report-cache.js'
import type { wakeLatency } from './scenarios/wake.js'

export interface Row { scenario: string, figures: Figures, rounds?: number[], cpuRounds?: Array<number | null> }

export interface Report {
  ratios: Record<'viewVsWebdis' | 'rawVsWebdis' | 'controlVsWebdis' | 'viewVsControl' | 'storeVsView' | 'viewCpuVsControlCpu' | 'webdisCpuVsControlCpu' | 'contractVsWebdis' | 'contractCpuVsControlCpu' | 'viewCpuVsContractCpu' | 'rawContractVsWebdis' | 'storeContractVsViewContract' | 'workers2VsWorkers1' | 'workers2VsWebdis', number>
  rounds: number
  roundSeconds: number
  batchVsSingles: { batchMs: number, singlesMs: number } | null
  date: string
  machine: Record<string, unknown>
  duration: number
  connections: number
  startRssMb: number
  idleRssMb: number
  idleSettleMs: number
  rows: Row[]
  wake: Awaited<ReturnType<typeof wakeLatency>> | null
  /** The same wake client against bench/control.ts's bare long-poll. */
  wakeControl: Awaited<ReturnType<typeof wakeLatency>> | null
  soak: SoakReport | null
  /** #28's scenarios (hot key, 100,000 keys, 404 poll, store; answer cache on and off) and their targets. */
  cache: CacheReport | null
}

const x = (v: number) => `${v.toFixed(2)}×`
const us = (v: number | null | undefined) => v === null || v === undefined ? '—' : v.toFixed(0)

function table (r: Report): string[] {
  const rps = (prefix: string) => r.rows.find(row => row.scenario.startsWith(prefix))?.figures.rps ?? NaN
  const webdis = rps('reference: webdis')
  const rb = rps('reference: redis-benchmark')
  const lines = [
    '| Scenario | req/s | × webdis | × redis-benchmark | p50 ms | p99 ms | CPU µs/req | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const { scenario, figures: f, rounds, cpuRounds } of r.rows) {
    const each = rounds === undefined ? '' : ` (${rounds.map(v => Math.round(v)).join(', ')})`
    const cpuEach = cpuRounds === undefined ? '' : ` (${cpuRounds.map(us).join(', ')})`
    lines.push(`| ${scenario} | ${Math.round(f.rps)}${each} | ${(f.rps / webdis).toFixed(2)} | ${(f.rps / rb).toFixed(2)} | ${f.p50} | ${f.p99} | ${us(f.cpuUsPerRequest)}${cpuEach} | ${f.errors} / ${f.non2xx} |`)
  }
  return lines
}

function wake (r: Report): string[] {
  const w = r.wake
  if (w === null) return ['Waiting at scale: not run (BENCH_SCOPE=headline).']
  return [
    `Waiting at scale, ${w.waiters} long-poll waiters on one gateway process, ${w.subscriberConnections} Redis subscriber connection(s); all answered: ${String(w.allReady)}. Client in a process of its own (bench/wake-client.ts).`,
    '', '| Wake latency, PUBLISH → HTTP answer at the client | p50 ms | p99 ms | max ms | gateway CPU µs per wake-up |', '|---|---:|---:|---:|---:|',
    `| paced: ${w.paced.size} results one at a time, ${w.waiters} waiters established | ${w.paced.p50} | ${w.paced.p99} | ${w.paced.max} | — |`,
    `| burst: ${w.burst.size} small results in one pipeline | ${w.burst.p50} | ${w.burst.p99} | ${w.burst.max} | ${w.burst.cpuUsPerWake} |`,
    `| burst: ${w.burstBig.size} results of ${w.burstBig.docBytes} B in one pipeline | ${w.burstBig.p50} | ${w.burstBig.p99} | ${w.burstBig.max} | ${w.burstBig.cpuUsPerWake} |`,
    ...(r.wakeControl === null
      ? []
      : [
      `| control (bare Fastify long-poll, ${r.wakeControl.waiters} waiters): paced | ${r.wakeControl.paced.p50} | ${r.wakeControl.paced.p99} | ${r.wakeControl.paced.max} | — |`,
      `| control: burst of ${r.wakeControl.burst.size} small | ${r.wakeControl.burst.p50} | ${r.wakeControl.burst.p99} | ${r.wakeControl.burst.max} | ${r.wakeControl.burst.cpuUsPerWake} |`,
      `| control: burst of ${r.wakeControl.burstBig.size} × ${r.wakeControl.burstBig.docBytes} B | ${r.wakeControl.burstBig.p50} | ${r.wakeControl.burstBig.p99} | ${r.wakeControl.burstBig.max} | ${r.wakeControl.burstBig.cpuUsPerWake} |`
        ]),
    '', `Gateway resident memory: ${r.startRssMb} MB just after start, ${r.idleRssMb} MB idle (${r.idleSettleMs / 1000} s after start, no request yet); ${w.rssBeforeMb} MB after the HTTP scenarios, ${w.rssWithWaitersMb} MB with the ${w.waiters} waiters established (${w.rssPerThousandMb} MB per 1,000 idle waiters).`
  ]
}

function soak (s: SoakReport | null): string[] {
  if (s === null) return ['', 'Soak: not run (BENCH_SOAK_REQUESTS=0).']
  const lines = ['', `Soak: ${s.total} requests of mixed fetch view 4 KB / store 4 KB / wait (ready) on one fresh gateway process, in ${s.segments.length} segments:`, '',
    '| after requests | req/s | CPU µs/req | RSS MB | errors / non-2xx |', '|---:|---:|---:|---:|---:|']
  let n = 0
  for (const g of s.segments) {
    n += g.requests
    lines.push(`| ${n} | ${g.rps} | ${us(g.cpuUsPerRequest)} | ${g.rssMb} | ${g.errors} / ${g.non2xx} |`)
  }
  lines.push('', `Aged vs fresh (a new process, warmed up, measured in alternating rounds with the aged one): CPU per request **${x(s.agedVsFresh)}** ` +
    `(rounds aged/fresh µs: ${s.paired.map(p => `${us(p.aged)}/${us(p.fresh)}`).join(', ')}); RSS ${s.rssAgedMb} MB aged, ${s.rssFreshMb} MB fresh.`)
  return lines
}

export function markdown (r: Report): string {
  const q = r.ratios
  return [
    `Run ${r.date} — ${String(r.machine.cpus)} × ${String(r.machine.cpu)}, ${String(r.machine.memGiB)} GiB, Node ${String(r.machine.node)}; autocannon ${r.connections} connections; everything on this one machine.`,
    '',
    `Paired rounds (${r.rounds} × ${r.roundSeconds} s per scenario, webdis and the control measured in every round beside the gateway; ratio = median of the rounds' own ratios): ` +
      `fetch view 4 KB **${x(q.viewVsWebdis)} webdis**, fetch raw 4 KB **${x(q.rawVsWebdis)} webdis**, control ${x(q.controlVsWebdis)} webdis, ` +
      `view ${x(q.viewVsControl)} the control, store 4 KB **${x(q.storeVsView)} fetch view**; ` +
      `CPU per request, view ÷ control **${x(q.viewCpuVsControlCpu)}** (webdis ÷ control ${x(q.webdisCpuVsControlCpu)}); ` +
      `ceiling under the fetch contract (control doing only the contract's work: TTL, validation and view, ETag): ${x(q.contractVsWebdis)} webdis, CPU ${x(q.contractCpuVsControlCpu)} the bare control, and the gateway's view CPU is ${x(q.viewCpuVsContractCpu)} of it; the raw contract's own work ${x(q.rawContractVsWebdis)} webdis; the store contract's own work ${x(q.storeContractVsViewContract)} the view contract's; ` +
      `RG_WORKERS=2 fetch view **${x(q.workers2VsWorkers1)} one worker** (${x(q.workers2VsWebdis)} webdis).`,
    '',
    `Rows from rounds show the median req/s and latencies of the rounds (per round in brackets); the other rows are single ${r.duration} s runs, compared with webdis's median. CPU µs/req: the measured process's utime + stime (with its workers') over the requests it answered.`,
    '',
    ...table(r),
    '',
    r.batchVsSingles === null
      ? 'Batch read of 1,000 ids: not run (BENCH_SCOPE=headline).'
      : `Batch read of 1,000 ids: ${r.batchVsSingles.batchMs} ms per batchGet request vs ${r.batchVsSingles.singlesMs} ms for 1,000 single fetches (50 concurrent), mean of 10.`,
    '',
    ...wake(r),
    ...soak(r.soak),
    ...(r.cache === null ? [] : cacheMarkdown(r.cache, r.rounds, r.roundSeconds)),
    ''
  ].join('\n')
}
