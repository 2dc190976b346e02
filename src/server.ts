/**
 * Process entry, the only file that reads process.env, listens or exits: flags → loadConfig → buildApp → listen.
 * With no Redis configured it starts a throwaway local redis-server and says so (and stops it on any failed
 * start). SIGTERM/SIGINT: /readyz 503 at once, drain RG_SHUTDOWN_DRAIN_SECONDS while still serving, then
 * close (waiters answered, in-flight finished within RG_SHUTDOWN_GRACE_SECONDS, Redis last), exit 0.
 */
import closeWithGrace from 'close-with-grace'
import type { FastifyServerOptions } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, REDACT_PATHS, type Config } from './config.js'
import { serializeError } from './logging/serialize-error.js'
import { unknownVariableWarnings } from './config-hints.js'
import { preflight } from './redis/preflight.js'
import type { SpawnedRedis } from './redis/spawn.js'
import { describeTopology } from './redis/topology.js'
import { drainThenClose, shutdownDeadlineMs } from './shutdown.js'
import { serverFlags } from './usage.js'
import { flushTracing } from './tracing/span.js'
import { followPrimary, isClusterWorker, isPrimaryOfMany, runPrimary } from './workers.js'

function fail (message: string): never {
  process.stderr.write(`result-gateway: ${message}\n`)
  process.exit(1)
}

/** JSON lines for collectors; pino-pretty (colours, local times) when a person watches a terminal. */
function logger (config: Config): FastifyServerOptions['logger'] {
  const base = { level: config.log.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  return process.stdout.isTTY === true ? { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : base
}

/** Checks the configured Redis before listening: a fatal problem exits 1; unreachable is returned to warn. */
async function checkRedis (config: Config): Promise<string | undefined> {
  if (config.redis.topology === null) return undefined
  // Untrusted certificates, wrong names, TLS against a plain-text port, bad credentials: exit with the fix.
  const check = await preflight(config.redis)
  if (check.status === 'fatal') fail(`cannot use Redis (${describeTopology(config.redis.topology)}): ${check.message}`)
  return check.status === 'unreachable' ? `${describeTopology(config.redis.topology)}: ${check.message}` : undefined
}

async function start (config: Config, devRedis: SpawnedRedis | undefined, unreachable: string | undefined): Promise<void> {
  const app = await buildApp(config, { logger: logger(config) })
  for (const warning of unknownVariableWarnings(process.env)) app.log.warn(warning)
  if (unreachable !== undefined) {
    app.log.warn({ reason: unreachable }, 'Redis is not reachable yet; starting anyway (/readyz answers 503 until it is)')
  }
  if (devRedis !== undefined) {
    // redisPid, not pid: pino's base fields already carry the gateway's own pid.
    app.log.warn({ redisPid: devRedis.pid, redisPort: devRedis.port },
      'RG_REDIS_URL and REDIS_HOST are unset: started a throwaway redis-server on 127.0.0.1 (data is lost on exit)')
  }
  // Not the fault signals: a JS listener for SIGSEGV/SIGBUS/SIGFPE/SIGILL returns to the faulting instruction, which
  // faults again, forever (Node's docs warn against it). Seen when the terminal of `npm start` closed: SIGHUP, then a
  // fault while closing, and a gateway spinning at 100 % CPU instead of exiting.
  closeWithGrace({ delay: shutdownDeadlineMs(config.shutdown), skip: ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err: serializeError(err) }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    // Only SIGTERM (Kubernetes, docker stop) drains: Ctrl-C at a terminal and a crash close at once.
    await drainThenClose(app, signal === 'SIGTERM' ? config.shutdown : { ...config.shutdown, drainSeconds: 0 })
    await devRedis?.stop()
    // Spans still batched (the last requests') are exported before exit; a no-op without tracing.
    await flushTracing()
  })
  try {
    await app.listen({ host: config.http.host, port: config.http.port })
  } catch (listenErr) {
    await app.close().catch(() => {})
    throw listenErr
  }
}

async function main (): Promise<void> {
  const flags = serverFlags(process.argv.slice(2))
  if (flags !== null) {
    if (flags.out !== undefined) process.stdout.write(flags.out)
    if (flags.err !== undefined) process.stderr.write(flags.err)
    process.exit(flags.exit)
  }
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
  // RG_WORKERS > 1: a worker runs the rest of main() like a single gateway, and follows the primary's shutdown.
  if (isClusterWorker()) followPrimary()
  const unreachable = await checkRedis(config)
  let devRedis: SpawnedRedis | undefined
  if (config.redis.topology === null) {
    // Development only (npm start without RG_REDIS_URL): the spawn module is never loaded otherwise.
    const { startRedisServer } = await import('./redis/spawn.js')
    devRedis = await startRedisServer()
    config = { ...config, redis: { ...config.redis, topology: { kind: 'standalone', host: '127.0.0.1', port: devRedis.port, db: 0 } } }
  }
  // RG_WORKERS > 1 (a configured Redis only, see config.ts): this process only supervises (src/workers.ts).
  if (isPrimaryOfMany(config.workers)) return runPrimary(config.workers, config.log.level)
  try {
    await start(config, devRedis, unreachable)
  } catch (err) {
    // A failed start (port busy, bad address) must not orphan the throwaway redis-server and its temp dir.
    await devRedis?.stop()
    throw err
  }
}

main().catch((err: unknown) => fail(`failed to start: ${err instanceof Error ? err.message : String(err)}`))
