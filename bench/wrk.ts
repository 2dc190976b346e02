/**
 * wrk (Debian's, C, one thread) as the bench's load generator where autocannon (JS, on the same two cores as
 * what it measures) would take CPU from it: runs one of bench/wrk/*.lua, reads the JSON line its done() prints,
 * and measures the target process's CPU over the run as cannon() does.
 */
import { fileURLToPath } from 'node:url'
import { exitedChildrenCpuSeconds, runToEnd, treeCpuSeconds, type Figures } from './lib.js'

export interface WrkOptions {
  url: string
  /** bench/wrk/<script>.lua */
  script: 'fixed' | 'random' | 'store'
  /** the script's own arguments (after --) */
  args?: string[]
  connections: number
  duration: number
  pid?: number
}

interface WrkReport { requests: number, durationUs: number, p50Us: number, p99Us: number, connect: number, read: number, write: number, timeout: number, status: number }

async function runWrk (o: WrkOptions): Promise<WrkReport> {
  const script = fileURLToPath(new URL(`./wrk/${o.script}.lua`, import.meta.url))
  const args = ['-t1', `-c${o.connections}`, `-d${o.duration}s`, '--timeout', '10s', '-s', script, o.url, ...(o.args === undefined ? [] : ['--', ...o.args])]
  const out = await runToEnd('wrk', args, 'apt-get install -y wrk')
  const line = out.split('\n').reverse().find(l => l.startsWith('{"requests"'))
  if (line === undefined) throw new Error(`wrk printed no report: ${out.slice(-500)}`)
  return JSON.parse(line) as WrkReport
}

export async function wrk (o: WrkOptions): Promise<Figures> {
  const cpu0 = o.pid === undefined ? null : treeCpuSeconds(o.pid)
  const load0 = exitedChildrenCpuSeconds()
  const r = await runWrk(o)
  const cpu = o.pid === undefined || cpu0 === null ? null : treeCpuSeconds(o.pid) - cpu0
  const load = exitedChildrenCpuSeconds() - load0
  const seconds = r.durationUs / 1e6
  return {
    requests: r.requests,
    rps: r.requests / (seconds || o.duration),
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
    cpuSeconds: cpu,
    cpuUsPerRequest: cpu === null || r.requests === 0 ? null : cpu * 1e6 / r.requests,
    loadCpuUsPerRequest: r.requests === 0 ? null : load * 1e6 / r.requests
  }
}
