/**
 * What a Redis error means, in one place: how it is classified (which decides the answer and whether a
 * retry is safe) and how it is logged (command name kept, arguments dropped: ioredis attaches
 * `command: {name, args}` to its errors, and the args are passwords (AUTH) or stored documents).
 */

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
 * - `wrongtype`: the key holds a value that is not a string (not a Celery document).
 * - `denied`: ACL NOPERM — a configuration fix, not a retry.
 * - `other`: a bug or an unexpected condition (500 "internal error").
 */
export type RedisErrorKind = 'refused' | 'lost' | 'auth' | 'wrongtype' | 'denied' | 'other'

const REFUSED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|BUSY |NOREPLICAS|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available)/
const LOST = /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries|connect ETIMEDOUT|All sentinels are unreachable)|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT|socket hang up/
const AUTH = /^(WRONGPASS|NOAUTH|ERR AUTH|ERR invalid password|ERR Client sent AUTH)/

export function classifyRedisError (err: unknown): RedisErrorKind {
  if (!(err instanceof Error)) return 'other'
  if (err instanceof RedisDeadlineError || err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return 'lost'
  const m = err.message
  if (REFUSED.test(m)) return 'refused'
  if (AUTH.test(m)) return 'auth'
  if (m.startsWith('WRONGTYPE')) return 'wrongtype'
  if (m.startsWith('NOPERM')) return 'denied'
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
  switch (classifyRedisError(err)) {
    case 'auth': return 'authentication failed: the credentials were changed or revoked'
    case 'refused': return /^(LOADING)/.test(m) ? 'loading its dataset' : 'failing over'
    default: return /timed out|ETIMEDOUT/.test(m) ? 'no answer within the command timeout' : 'connection lost'
  }
}

export interface SerializedError {
  type: string
  message: string
  /** The Redis command's name (never its arguments). */
  command?: string
  code?: string
  stack?: string
}

function commandName (err: Error): string | undefined {
  const name = (err as { command?: { name?: unknown } }).command?.name
  return typeof name === 'string' && /^[\w|:-]{1,64}$/.test(name) ? name : undefined
}

/**
 * The one serializer for errors that reach a log line: type, first line of the message, the Redis command
 * name and (only when `withStack`) the stack. Everything else an error carries — ioredis `command.args`,
 * `previousErrors`, a request, headers — is dropped, whatever it holds.
 */
export function serializeError (err: unknown, withStack = true): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err, message: 'non-error thrown' }
  const out: SerializedError = { type: err.name, message: (err.message.split('\n')[0] ?? '').slice(0, 500) }
  const command = commandName(err)
  if (command !== undefined) out.command = command
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code.length <= 64) out.code = code
  if (withStack && err.stack !== undefined) out.stack = err.stack.split('\n').filter(l => /^\s+at /.test(l)).slice(0, 12).join('\n')
  return out
}

/**
 * Expected operational errors come in bursts (a failover, a frozen Redis, rotated credentials: every request
 * and every reconnect attempt fails the same way): the first of each key is logged, then at most one line
 * per window saying how many more there were. Keys come from a closed set (problem codes, connection roles).
 */
export class BurstLog {
  readonly #seen = new Map<string, { at: number, folded: number }>()
  readonly #windowMs: number
  constructor (windowMs = 10_000) { this.#windowMs = windowMs }

  /** null: fold this one into the current burst; a number: log now, with that many folded since the last line. */
  take (key: string, now = Date.now()): number | null {
    const e = this.#seen.get(key)
    if (e !== undefined && now - e.at < this.#windowMs) {
      e.folded++
      return null
    }
    this.#seen.set(key, { at: now, folded: 0 })
    return e?.folded ?? 0
  }
}
