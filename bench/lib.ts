/**
 * Bench plumbing: processes (redis-server, the gateway, webdis) on free loopback ports, stopped by pid;
 * CPU seconds of a pid from /proc; autocannon runs reduced to the figures the report needs.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { freePort, onMissingCommand, spawnTied, stopProcess } from '../src/redis/spawn.js'

/**
 * A process of the bench, tied to this one (spawnTied): a bench stopped mid-run (Ctrl-C, kill) leaves no
 * gateway, control or webdis behind. Its stderr is passed on; its stdout is read by the caller or dropped.
 */
export function spawnBench (command: string, args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string, stdout?: 'read' | 'drop' } = {}): ReturnType<typeof spawnTied> {
  const { stdout = 'drop', ...rest } = options
  const child = spawnTied(command, args, rest)
  child.stderr.pipe(process.stderr)
  if (stdout === 'drop') child.stdout.resume()
  return child
}

export interface Figures {
  requests: number
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  cpuSeconds: number | null
  /** CPU µs the measured process (and its workers) spent per request */
  cpuUsPerRequest?: number | null
  /** CPU µs the load generator itself spent per request (wrk runs only) */
  loadCpuUsPerRequest?: number | null
  /** Redis commands run per request (INFO commandstats around the run), where the scenario counts them */
  redisCommandsPerRequest?: number
}

/** One measurement of a scenario for `seconds`. */
export type Measure = (seconds: number) => Promise<Figures>

export function median (xs: number[]): number {
  const s = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

/** One scenario's rounds as one row: median req/s, latencies and per-request figures; CPU over all rounds. */
export function combine (runs: Figures[]): Figures {
  const cpu = runs.every(f => f.cpuSeconds !== null) ? runs.reduce((a, f) => a + (f.cpuSeconds ?? 0), 0) : null
  const requests = runs.reduce((a, f) => a + f.requests, 0)
  const perRequest = (pick: (f: Figures) => number | null | undefined): number | null => {
    const v = runs.map(pick)
    return v.every(x => typeof x === 'number') ? median(v as number[]) : null
  }
  return {
    requests,
    rps: median(runs.map(f => f.rps)),
    p50: median(runs.map(f => f.p50)),
    p99: median(runs.map(f => f.p99)),
    errors: runs.reduce((a, f) => a + f.errors, 0),
    non2xx: runs.reduce((a, f) => a + f.non2xx, 0),
    cpuSeconds: cpu,
    cpuUsPerRequest: cpu === null ? null : cpu * 1e6 / Math.max(1, requests),
    loadCpuUsPerRequest: perRequest(f => f.loadCpuUsPerRequest),
    ...(runs.every(f => f.redisCommandsPerRequest !== undefined) ? { redisCommandsPerRequest: median(runs.map(f => f.redisCommandsPerRequest ?? NaN)) } : {})
  }
}

/**
 * Paired rounds: every scenario once per round, so that a ratio of two scenarios is taken within one round
 * (this shared machine drifts by tens of percent within a run) and the reported ratio is the median of the
 * rounds' own ratios. Every other round runs the scenarios in reverse order, as bench/ab.ts alternates its two
 * builds: in a fixed order, of two neighbours compared (cache on, cache off) the same one always ran first,
 * right after the same third scenario, and a drift within the round always favoured the same one.
 */
export class Rounds {
  readonly rounds: Array<Map<string, Figures>> = []

  static async run (scenarios: Array<[string, Measure]>, rounds: number, seconds: number, label: string): Promise<Rounds> {
    const r = new Rounds()
    for (let i = 0; i < rounds; i++) {
      const round = new Map<string, Figures>()
      for (const [name, measure] of i % 2 === 0 ? scenarios : [...scenarios].reverse()) {
        process.stderr.write(`${label} round ${i + 1}: ${name}…\n`)
        round.set(name, await measure(seconds))
      }
      r.rounds.push(round)
    }
    return r
  }

  /** Every round's figures of one scenario. */
  of (scenario: string): Figures[] {
    return this.rounds.map(r => r.get(scenario)).filter(f => f !== undefined)
  }

  /** Median over the rounds of a/b req/s. */
  ratio (a: string, b: string): number {
    return median(this.rounds.map(r => (r.get(a)?.rps ?? NaN) / (r.get(b)?.rps ?? NaN)))
  }

  /** Median over the rounds of a/b CPU per request. */
  cpuRatio (a: string, b: string): number {
    return median(this.rounds.map(r => (r.get(a)?.cpuUsPerRequest ?? NaN) / (r.get(b)?.cpuUsPerRequest ?? NaN)))
  }
}

/** utime + stime of a process, in seconds (Linux /proc; clock ticks are 100 Hz on Debian). */
export function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * CPU seconds of this process's children that have exited and been waited for (cutime + cstime of
 * /proc/self/stat): around one load-generator run, the generator's own CPU (no other child exits meanwhile).
 */
export function exitedChildrenCpuSeconds (): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[13]) + Number(fields[14])) / 100
}

/** The pid and its children's pids (the workers of RG_WORKERS > 1), from /proc. */
export function processTree (pid: number): number[] {
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(x => x !== '').map(Number)
  } catch { /* gone */ }
  return [pid, ...children.flatMap(processTree)]
}

/** CPU seconds of a process and all its descendants (utime + stime of each, read now). */
export function treeCpuSeconds (pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try { return sum + cpuSeconds(p) } catch { return sum }
  }, 0)
}

/** Resident memory of a process, in MB. */
export function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Math.round(Number(m?.[1] ?? 0) / 1024)
}

/** Runs bench/wake-client.ts in a process of its own; resolves with its figures. */
export function runWakeClient<T> (base: string, redisPort: number, pid: number, waiters: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawnBench(process.execPath, ['--import', 'tsx', new URL('./wake-client.ts', import.meta.url).pathname, base, String(redisPort), String(pid), String(waiters)], { stdout: 'read' })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.once('error', reject)
    child.once('exit', code => {
      if (code !== 0) reject(new Error(`wake client exited ${String(code)}`))
      else resolve(JSON.parse(out) as T)
    })
  })
}

/** Waits for a process to answer: up to 2 minutes, as a cluster's workers compile their schemas on a loaded machine. */
export async function waitForHttp (url: string): Promise<void> {
  for (let i = 0; i < 4800; i++) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  }
  throw new Error(`${url} never answered`)
}

export async function startGateway (redisUrl: string, env: Record<string, string> = {}): Promise<{ url: string, child: ChildProcess, stop: () => Promise<void> }> {
  const port = await freePort()
  const child = spawnBench(process.execPath, [new URL('../dist/server.js', import.meta.url).pathname], {
    env: { PATH: process.env.PATH ?? '', RG_REDIS_URL: redisUrl, RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'warn', RG_AUTH_DISABLED: 'true', ...env }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`)
  return { url, child, stop: () => stopProcess(child) }
}

/** bench/floor.ts (Node's HTTP server answering the gateway's own poll answers from memory), as a child process. */
export async function startFloor (gatewayUrl: string): Promise<{ url: string, child: ChildProcess, stop: () => Promise<void> }> {
  const port = await freePort()
  const child = spawnBench(process.execPath, ['--import', 'tsx', new URL('./floor.ts', import.meta.url).pathname, String(port), gatewayUrl])
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/hot`)
  return { url, child, stop: () => stopProcess(child) }
}

/** The bare Fastify + ioredis passthrough of bench/control.ts, as a child process. */
export async function startControl (redisPort: number): Promise<{ url: string, child: ChildProcess, stop: () => Promise<void> }> {
  const port = await freePort()
  const child = spawnBench(process.execPath, ['--import', 'tsx', new URL('./control.ts', import.meta.url).pathname, String(port), String(redisPort)])
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`)
  return { url, child, stop: () => stopProcess(child) }
}

export async function startWebdis (redisPort: number): Promise<{ url: string, child: ChildProcess, stop: () => Promise<void> }> {
  const port = await freePort()
  const conf = join(tmpdir(), `rg-bench-webdis-${port}.json`)
  writeFileSync(conf, JSON.stringify({
    redis_host: '127.0.0.1',
    redis_port: redisPort,
    http_host: '127.0.0.1',
    http_port: port,
    threads: 1,
    pool_size: 10,
    daemonize: false,
    database: 0,
    verbosity: 0,
    logfile: '/dev/null'
  }))
  const child = spawnBench('webdis', [conf])
  const failed = new Promise<never>((_resolve, reject) => {
    onMissingCommand(child, () => reject(new Error('webdis not found: install it (apt-get install -y webdis)')))
    child.once('error', reject)
  })
  const url = `http://127.0.0.1:${port}`
  await Promise.race([waitForHttp(`${url}/PING`), failed])
  return { url, child, stop: () => stopProcess(child) }
}

export interface CannonOptions {
  url: string
  method?: 'GET' | 'PUT' | 'POST'
  body?: string
  headers?: Record<string, string>
  connections: number
  duration: number
  /** pid whose CPU time (with its children's: RG_WORKERS) is measured over the run */
  pid?: number
  idReplacement?: boolean
  /** a fixed number of requests instead of a duration */
  amount?: number
  /** a sequence each connection cycles through (overrides method/body/headers) */
  requests?: Array<{ method: 'GET' | 'PUT' | 'POST', path: string, body?: string, headers?: Record<string, string> }>
}

export async function cannon (o: CannonOptions): Promise<Figures> {
  const cpu0 = o.pid === undefined ? null : treeCpuSeconds(o.pid)
  const r = await autocannon({
    url: o.url,
    method: o.method ?? 'GET',
    connections: o.connections,
    duration: o.duration,
    ...(o.amount === undefined ? {} : { amount: o.amount }),
    ...(o.requests === undefined ? {} : { requests: o.requests }),
    ...(o.body === undefined ? {} : { body: o.body }),
    ...(o.headers === undefined ? {} : { headers: o.headers }),
    ...(o.idReplacement === true ? { idReplacement: true } : {})
  })
  const cpu = o.pid === undefined || cpu0 === null ? null : treeCpuSeconds(o.pid) - cpu0
  return {
    requests: r.requests.total,
    rps: r.requests.total / (r.duration || o.duration),
    cpuUsPerRequest: cpu === null || r.requests.total === 0 ? null : cpu * 1e6 / r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    cpuSeconds: cpu
  }
}

/**
 * Runs a command of the bench to its end and resolves with its standard output; a missing command rejects with
 * `install` (what to install), any other failure with the exit code and the output's tail.
 */
export function runToEnd (command: string, args: string[], install: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnBench(command, args, { stdout: 'read' })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    onMissingCommand(child, () => reject(new Error(`${command} not found: install it (${install})`)))
    child.once('error', reject)
    child.once('exit', code => {
      if (code === 127) return // rejected above
      if (code !== 0) reject(new Error(`${command} exited ${String(code)}: ${out.slice(-500)}`))
      else resolve(out)
    })
  })
}

/** Runs redis-benchmark against one preloaded key; returns requests per second and latency percentiles. */
export async function redisBenchmark (port: number, key: string, connections: number, requests: number): Promise<Figures> {
  const out = await runToEnd('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', String(connections), '-n', String(requests), '--csv', 'GET', key], 'apt-get install -y redis-tools')
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = out.trim().split('\n').at(-1)?.split(',').map(v => v.replace(/"/g, '')) ?? []
  return { requests, rps: Number(row[1]), p50: Number(row[4]), p99: Number(row[6]), errors: 0, non2xx: 0, cpuSeconds: null }
}

/** A Celery JSON meta document of about `bytes` bytes, written the way Celery 5.2 writes it. */
export function celeryDoc (taskId: string, bytes: number): string {
  const base = { status: 'SUCCESS', result: { rows: [] as Array<{ id: number, name: string, score: number }> }, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: taskId }
  let doc = JSON.stringify(base)
  for (let i = 0; doc.length < bytes; i++) {
    base.result.rows.push({ id: i, name: `row-${i}`, score: i * 1.5 })
    doc = JSON.stringify(base)
  }
  return doc
}

/**
 * The body of a 4 KB SUCCESS store (celeryDoc's result), with Celery's own TTL (result_expires, one day): a
 * short one made the tens of thousands of keys a store round writes expire in the middle of later read rounds,
 * and Redis's expiry of them slowed whichever reads ran then.
 */
export function storeBody4KB (): string {
  return JSON.stringify({ state: 'SUCCESS', result: (JSON.parse(celeryDoc('x', 4096)) as { result: unknown }).result, ttlSeconds: 86400 })
}
