/**
 * Builds ioredis clients from the validated config (the only place that knows the connection details),
 * and classifies Redis errors into "unavailable" (503 + Retry-After) versus everything else.
 */
import { Redis, type RedisOptions } from 'ioredis'
import type { Config } from '../config.js'

export type RedisRole = 'data' | 'subscriber'

/** ioredis options from a Celery-style URL (redis://, rediss://, unix://, socket://). */
export function redisOptions (cfg: Config['redis'], role: RedisRole): RedisOptions {
  if (cfg.url === null) throw new Error('no Redis configured')
  const url = new URL(cfg.url)
  const opts: RedisOptions = {
    lazyConnect: true,
    connectionName: `result-gateway:${role}`,
    // CLIENT SETINFO fails on Redis < 7.2 and would show up as command errors in the metrics.
    disableClientInfo: true,
    connectTimeout: cfg.connectTimeoutMs,
    // The subscriber's SUBSCRIBEs may wait behind a burst of new waiters; each waiter has its own timeout,
    // and the Waiter bounds the wait for a ready connection with the command timeout instead.
    ...(role === 'data' ? { commandTimeout: cfg.commandTimeoutMs } : {}),
    // Fail a request fast instead of queueing it behind reconnects; the caller answers 503.
    maxRetriesPerRequest: 1,
    enableAutoPipelining: role === 'data',
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000)
  }
  if (url.protocol === 'unix:' || url.protocol === 'socket:') {
    opts.path = decodeURIComponent(url.pathname)
    opts.db = Number(url.searchParams.get('db') ?? url.searchParams.get('virtual_host') ?? 0)
  } else {
    opts.host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    opts.port = url.port === '' ? 6379 : Number(url.port)
    const db = url.pathname.replace(/^\//, '')
    opts.db = db === '' ? 0 : Number(db)
    if (url.protocol === 'rediss:') {
      const reqs = url.searchParams.get('ssl_cert_reqs')
      opts.tls = { rejectUnauthorized: reqs === null || /^(required|cert_required)$/i.test(reqs) }
    }
  }
  if (url.username !== '') opts.username = decodeURIComponent(url.username)
  if (url.password !== '') opts.password = decodeURIComponent(url.password)
  if (cfg.username !== null) opts.username = cfg.username
  if (cfg.password !== null) opts.password = cfg.password
  return opts
}

export function createRedis (cfg: Config['redis'], role: RedisRole): Redis {
  return new Redis(redisOptions(cfg, role))
}

const UNAVAILABLE = /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries|connect ETIMEDOUT|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|BUSY )|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN/

/** True when a Redis error means "try again shortly" rather than a bug or bad data. */
export function isUnavailable (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return err.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(err.message)
}

/** Closes a client without connecting one that never connected (lazyConnect). */
export async function closeRedis (client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect())
  } else {
    client.disconnect()
  }
}
