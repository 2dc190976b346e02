/**
 * RG_WORKERS > 1: the gateway on several cores of one host (node:cluster). The primary only forks, restarts
 * crashed workers, answers the workers' requests for cluster-wide metrics (prom-client's AggregatorRegistry)
 * and forwards shutdown; every worker is a whole gateway (its own Redis connections, waiters and shutdown).
 * The HTTP port is shared: the primary hands each new connection to a worker in turn.
 */
import cluster, { type Worker } from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { AggregatorRegistry, type PrometheusContentType } from 'prom-client'

/** IPC message types between the primary and its workers (prom-client uses its own for the aggregation). */
const METRICS_REQ = 'result-gateway:metrics-req'
const METRICS_RES = 'result-gateway:metrics-res'
const SHUTDOWN = 'result-gateway:shutdown'

interface Message { type?: unknown, id?: unknown, text?: unknown, error?: unknown }

/** True in the primary when several workers are configured: server.ts hands the process over to runPrimary. */
export function isPrimaryOfMany (workers: number): boolean {
  return workers > 1 && cluster.isPrimary
}

/** True in a worker forked by runPrimary. */
export function isClusterWorker (): boolean {
  return cluster.isWorker && typeof process.send === 'function'
}

/**
 * Forks `count` workers and supervises them until SIGTERM/SIGINT; then asks every worker to shut down (each
 * answers its waiters and drains, see server.ts) and exits 0 when all exited 0, else 1.
 */
export function runPrimary (count: number, logLevel: string): void {
  const log = pino({ level: logLevel, base: { pid: process.pid, role: 'primary' } })
  const aggregator = new AggregatorRegistry<PrometheusContentType>()
  const listened = new WeakSet<Worker>()
  let stopping = false
  let failed = false
  const fork = (): Worker => {
    const worker = cluster.fork()
    worker.on('message', (m: Message) => { if (m.type === METRICS_REQ) answerMetrics(worker, m.id, aggregator) })
    worker.once('listening', () => listened.add(worker))
    return worker
  }
  const stop = (signal: NodeJS.Signals | 'failed-start'): void => {
    if (stopping) return
    stopping = true
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down workers')
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send({ type: SHUTDOWN })
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping && !listened.has(worker)) {
      // It never listened: bad config, Redis refused, port taken. A new one would fail the same way.
      failed = true
      stop('failed-start')
    }
    if (stopping) {
      if (code !== 0) failed = true
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0)
      return
    }
    // A crash is one worker's: the others keep serving while a replacement starts.
    log.error({ worker: worker.process.pid, code, signal }, 'worker exited; starting a new one')
    setTimeout(fork, 1000)
  })
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  for (let i = 0; i < count; i++) fork()
  log.info({ workers: count }, 'started workers')
}

function answerMetrics (worker: Worker, id: unknown, aggregator: AggregatorRegistry<PrometheusContentType>): void {
  aggregator.clusterMetrics().then(
    (text: string) => worker.send({ type: METRICS_RES, id, text }),
    (err: Error) => worker.send({ type: METRICS_RES, id, error: err.message })
  )
}

/**
 * In a worker: the primary's shutdown request becomes this process's own SIGTERM, handled like a SIGTERM from
 * outside (close-with-grace). A worker already closing (a terminal's SIGINT reaches every process of the
 * group) is left alone: a second signal would make close-with-grace exit at once.
 */
export function followPrimary (): void {
  process.on('message', (m: Message) => {
    if (m.type === SHUTDOWN && (closeWithGrace as { closing?: boolean }).closing !== true) process.kill(process.pid, 'SIGTERM')
  })
}

let nextId = 0
/** In a worker: the metrics of every worker, aggregated by the primary (Prometheus text format). */
export function clusterMetrics (): Promise<string> {
  const id = nextId++
  return new Promise((resolve, reject) => {
    const onMessage = (m: Message): void => {
      if (m.type !== METRICS_RES || m.id !== id) return
      process.off('message', onMessage)
      if (typeof m.text === 'string') resolve(m.text)
      else reject(new Error(`cluster metrics: ${String(m.error)}`))
    }
    process.on('message', onMessage)
    process.send?.({ type: METRICS_REQ, id })
  })
}
