/**
 * The one table of Redis error replies: reply prefix → what the client is told (status, code, Retry-After),
 * whether a retry is safe, and what the operator does. docs/redis-errors.md carries the same table; a test
 * (test/contract/redis-errors-doc.test.ts) keeps them equal. Classification (src/redis/errors.ts) and the
 * problem handler read it; nothing else lists Redis replies.
 * @see https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors (first word = error kind)
 */
import type { ProblemCode } from '../errors.js'

/** Why a write was refused, for result_gateway_redis_write_refusals_total{reason}: a closed set. */
export const WRITE_REFUSALS = ['oom', 'misconf', 'noperm', 'readonly', 'noreplicas'] as const
export type WriteRefusal = typeof WRITE_REFUSALS[number]

/** How the rest of the code treats a reply (see RedisErrorKind in ./errors.ts). */
export type ReplyKind = 'refused' | 'auth' | 'denied' | 'full' | 'wrongtype' | 'internal'

export interface ReplyRow {
  /** What the reply starts with (Redis's error word, or its whole fixed text). */
  prefix: string
  /** Matches the reply's text (anchored at the start); inside a script, Redis words some replies differently. */
  match: RegExp
  kind: ReplyKind
  /** null: never reaches a client (ioredis handles it). */
  status: number | null
  code: ProblemCode | null
  /** Retry-After in seconds on the answer (503 only). */
  retryAfterSeconds: number | null
  /** Whether sending the same request again is safe (nothing ran). */
  retrySafe: 'yes' | 'n/a'
  /** Short, fixed reason for the detail (never Redis's own text: it names nodes and slots). */
  reason: string
  /** What the operator does. */
  action: string
  /** Counted as a refused write with this reason (stores, expiry changes, forgets). */
  refusal?: WriteRefusal
  /** Redis refuses only writes in this state: reads, and readiness, go on. */
  writesOnly?: boolean
}

const row = (r: ReplyRow): ReplyRow => r

export const REPLY_TABLE: readonly ReplyRow[] = [
  row({ prefix: 'OOM', match: /^OOM /, kind: 'full', status: 503, code: 'RG_REDIS_OUT_OF_MEMORY', retryAfterSeconds: 30, retrySafe: 'yes', refusal: 'oom', writesOnly: true, reason: 'Redis is at maxmemory', action: 'raise maxmemory, shorten result TTLs (result_expires), or delete old results; see the ResultGatewayRedisWritesRefused runbook' }),
  row({ prefix: 'MISCONF', match: /^MISCONF /, kind: 'full', status: 503, code: 'RG_REDIS_CANNOT_PERSIST', retryAfterSeconds: 30, retrySafe: 'yes', refusal: 'misconf', writesOnly: true, reason: 'Redis refuses writes because its last snapshot failed (stop-writes-on-bgsave-error)', action: 'fix the disk Redis saves to (INFO persistence: rdb_last_bgsave_status, the Redis log), then BGSAVE' }),
  row({ prefix: 'NOPERM', match: /^(NOPERM |ERR The user executing the script can't)/, kind: 'denied', status: 503, code: 'RG_REDIS_DENIED', retryAfterSeconds: 60, retrySafe: 'yes', refusal: 'noperm', reason: 'the ACL user lacks a permission', action: 'grant the documented ACL rule (src/redis/acl.ts); `result-gateway doctor` lists what is missing' }),
  row({ prefix: 'WRONGPASS', match: /^(WRONGPASS|ERR invalid password|ERR AUTH|ERR Client sent AUTH)/, kind: 'auth', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 10, retrySafe: 'yes', reason: 'authentication failed: the credentials were changed or revoked', action: 'set RG_REDIS_PASSWORD (or REDIS_PASSWORD / the URL) to the current password and restart the gateway' }),
  row({ prefix: 'NOAUTH', match: /^NOAUTH/, kind: 'auth', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 10, retrySafe: 'yes', reason: 'authentication failed: the credentials were changed or revoked', action: 'configure the password Redis now requires and restart the gateway' }),
  row({ prefix: 'ERR max number of clients reached', match: /^ERR max number of clients reached/, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 5, retrySafe: 'yes', reason: 'Redis has reached maxclients', action: 'raise maxclients or find the client holding connections (CLIENT LIST)' }),
  row({ prefix: 'LOADING', match: /^LOADING /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'loading its dataset', action: 'wait: Redis answers once its dataset is loaded' }),
  row({ prefix: 'BUSY', match: /^BUSY /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'busy running a script', action: 'find the slow script (SLOWLOG GET); SCRIPT KILL if it has not written' }),
  row({ prefix: 'READONLY', match: /^READONLY /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', refusal: 'readonly', reason: 'failing over', action: 'none while a failover runs; otherwise point the gateway at the master' }),
  row({ prefix: 'MASTERDOWN', match: /^MASTERDOWN /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'failing over', action: 'none while a failover runs; check the master and Sentinel' }),
  row({ prefix: 'NOREPLICAS', match: /^NOREPLICAS /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', refusal: 'noreplicas', reason: 'fewer replicas than min-replicas-to-write', action: 'bring replicas back, or lower min-replicas-to-write' }),
  row({ prefix: 'CLUSTERDOWN', match: /^CLUSTERDOWN /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'failing over', action: 'bring the failed masters back or let their replicas take over' }),
  row({ prefix: 'TRYAGAIN', match: /^TRYAGAIN /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'failing over', action: 'none: a slot is being resharded' }),
  row({ prefix: 'MOVED', match: /^MOVED /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'failing over', action: 'none: retried on the new owner within the deadline' }),
  row({ prefix: 'ASK', match: /^ASK /, kind: 'refused', status: 503, code: 'RG_REDIS_UNAVAILABLE', retryAfterSeconds: 1, retrySafe: 'yes', reason: 'failing over', action: 'none: retried on the new owner within the deadline' }),
  row({ prefix: 'WRONGTYPE', match: /^WRONGTYPE /, kind: 'wrongtype', status: 422, code: 'RG_UNDECODABLE_RESULT', retryAfterSeconds: null, retrySafe: 'n/a', reason: 'the key holds a list, hash, set or other non-string value', action: 'find the writer that stores non-strings under the Celery prefix' }),
  row({ prefix: 'NOSCRIPT', match: /^NOSCRIPT /, kind: 'internal', status: null, code: null, retryAfterSeconds: null, retrySafe: 'n/a', reason: 'the script cache was flushed (restart, SCRIPT FLUSH)', action: 'none: ioredis reloads the script (EVAL) transparently' }),
  row({ prefix: '(any other)', match: /^(?!)/, kind: 'internal', status: 500, code: 'RG_INTERNAL', retryAfterSeconds: null, retrySafe: 'n/a', reason: 'internal error', action: 'look for the log line with redisReply (the reply\'s first word) and report it' })
]

/** The row for a Redis error reply, or undefined when the text is not one of the table's replies. */
export function replyRow (message: string): ReplyRow | undefined {
  return REPLY_TABLE.find(r => r.match.test(message))
}

/** The first word of a Redis error reply (its kind, e.g. ERR, OOM): safe to log, never the rest. */
export function replyWord (message: string): string {
  return /^[A-Z][A-Z_-]{0,31}(?= |$)/.exec(message)?.[0] ?? 'unknown'
}
