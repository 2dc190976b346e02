/**
 * Process entry, the only file that reads process.env, listens or exits: loadConfig → buildApp → listen.
 * With no Redis configured it starts a throwaway local redis-server and says so. SIGTERM/SIGINT: mark not
 * ready, answer waiters, finish in-flight requests, close Redis, exit 0 (close-with-grace).
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, REDACT_PATHS, type Config } from './config.js'
import { preflight } from './redis/preflight.js'
import { startRedisServer, type SpawnedRedis } from './redis/spawn.js'
import { describeTopology } from './redis/topology.js'
import { followPrimary, isClusterWorker, isPrimaryOfMany, runPrimary } from './workers.js'

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`result-gateway: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }

  // RG_WORKERS > 1: this process only supervises; each forked worker runs the rest of main() (src/workers.ts).
  if (isPrimaryOfMany(config.workers)) return runPrimary(config.workers, config.log.level)
  if (isClusterWorker()) followPrimary()

  let devRedis: SpawnedRedis | undefined
  let unreachable: string | undefined
  if (config.redis.topology !== null) {
    // Untrusted certificates, wrong names, TLS against a plain-text port, bad credentials: exit with the fix.
    const check = await preflight(config.redis)
    if (check.status === 'fatal') {
      process.stderr.write(`result-gateway: cannot use Redis (${describeTopology(config.redis.topology)}): ${check.message}\n`)
      process.exit(1)
    }
    if (check.status === 'unreachable') unreachable = `${describeTopology(config.redis.topology)}: ${check.message}`
  } else {
    devRedis = await startRedisServer()
    config = { ...config, redis: { ...config.redis, topology: { kind: 'standalone', host: '127.0.0.1', port: devRedis.port, db: 0 } } }
  }

  const app = await buildApp(config, {
    logger: { level: config.log.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  })
  if (unreachable !== undefined) {
    app.log.warn({ reason: unreachable },
      'Redis is not reachable yet; starting anyway (/readyz answers 503 until it is)')
  }
  if (devRedis !== undefined) {
    app.log.warn({ pid: devRedis.pid, port: devRedis.port },
      'RG_REDIS_URL and REDIS_HOST are unset: started a throwaway redis-server on 127.0.0.1 (data is lost on exit)')
  }

  closeWithGrace({ delay: config.shutdown.graceSeconds * 1000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    app.lifecycle.draining = true
    await app.close()
    await devRedis?.stop()
  })

  await app.listen({ host: config.http.host, port: config.http.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`result-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
