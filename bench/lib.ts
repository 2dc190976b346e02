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
}

/** utime + stime of a process, in seconds (Linux /proc; clock ticks are 100 Hz on Debian). */
export function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
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

/** Runs redis-benchmark against one preloaded key; returns requests per second and latency percentiles. */
export function redisBenchmark (port: number, key: string, connections: number, requests: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawnBench('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', String(connections), '-n', String(requests), '--csv', 'GET', key], { stdout: 'read' })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    onMissingCommand(child, () => reject(new Error('redis-benchmark not found: install it (apt-get install -y redis-tools)')))
    child.once('error', reject)
    child.once('exit', code => {
      if (code === 127) return // rejected above
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const row = out.trim().split('\n').at(-1)?.split(',').map(v => v.replace(/"/g, '')) ?? []
      resolve({ requests, rps: Number(row[1]), p50: Number(row[4]), p99: Number(row[6]), errors: 0, non2xx: 0, cpuSeconds: null })
    })
  })
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
