/**
 * What a Redis error means, in one place: how it is classified, which decides the answer and whether a
 * retry is safe. How any error is logged is src/logging/serialize-error.ts's.
 */
import { replyRow } from './replies.js'

/** A request's Redis work overran its deadline (RG_REDIS_COMMAND_TIMEOUT_MS from the moment it asked). */
export class RedisDeadlineError extends Error {
  override name = 'RedisDeadlineError'
  constructor (ms: number) {
    super(`no answer from Redis within ${ms} ms`)
  }
}

/**
 * - `refused`: Redis (or ioredis, before sending) refused the command without running it — a failover or
 *   resharding in progress, a replica that is loading or read-only. Safe to retry any command.
 * - `lost`: the connection failed or timed out with the command possibly run. Only reads are retried.
 * - `auth`: the credentials no longer work (rotated under a running gateway): 503 until they are fixed.
 * - `full`: Redis refuses writes (OOM at maxmemory, MISCONF after a failed snapshot); reads go on.
 * - `wrongtype`: the key holds a value that is not a string (not a Celery document).
 * - `denied`: ACL NOPERM — a configuration fix, not a retry.
 * - `other`: a bug or an unexpected condition (500 "internal error").
 * Redis's own replies are classified by the table in ./replies.ts; the rest are ioredis's and Node's errors.
 */
export type RedisErrorKind = 'refused' | 'lost' | 'auth' | 'full' | 'wrongtype' | 'denied' | 'other'

const IOREDIS_REFUSED = /^(Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available)/
const LOST = /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries|connect ETIMEDOUT|All sentinels are unreachable)|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT|socket hang up/

export function classifyRedisError (err: unknown): RedisErrorKind {
  if (!(err instanceof Error)) return 'other'
  if (err instanceof RedisDeadlineError || err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return 'lost'
  const m = err.message
  const row = replyRow(m)
  if (row !== undefined) return row.kind === 'internal' ? 'other' : row.kind
  if (IOREDIS_REFUSED.test(m)) return 'refused'
  if (LOST.test(m)) return 'lost'
  return 'other'
}

/** True when the error means "Redis cannot serve this right now; retry shortly" (503 + Retry-After). */
export function isUnavailable (err: unknown): boolean {
  const kind = classifyRedisError(err)
  return kind === 'refused' || kind === 'lost' || kind === 'auth'
}

/** A short, fixed reason for a 503's detail and the log: never Redis's own text (it names nodes and slots). */
export function unavailableReason (err: unknown): string {
  if (err instanceof RedisDeadlineError) return 'no answer within the command timeout'
  const m = err instanceof Error ? err.message : ''
  const row = replyRow(m)
  if (row !== undefined) return row.reason
  if (classifyRedisError(err) === 'refused') return 'failing over'
  return /timed out|ETIMEDOUT/.test(m) ? 'no answer within the command timeout' : 'connection lost'
}

/** Retry-After (seconds) for a Redis error's 503: its row's, else 1 (a lost connection, a deadline). */
export function retryAfterSeconds (err: unknown): number {
  return (err instanceof Error ? replyRow(err.message)?.retryAfterSeconds : undefined) ?? 1
}
