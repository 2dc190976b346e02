/**
 * A Redis error → the coded error the problem handler renders, by the reply table (src/redis/replies.ts):
 * 503s with their Retry-After and a detail that says what to do (the policy at maxmemory, the ACL grant
 * missing), never Redis's own text. Everything else is left to the generic handling (500 internal).
 */
import type { FastifyInstance } from 'fastify'
import { RedisCannotPersist, RedisDenied, RedisOutOfMemory, RedisUnavailable } from '../errors.js'
import { taskKeyPattern } from '../celery/keys.js'
import { authFailure } from '../redis/auth-state.js'
import { classifyRedisError, retryAfterSeconds, unavailableReason } from '../redis/errors.js'
import { replyRow } from '../redis/replies.js'

export interface RedisProblem { err: Error, retryAfterSeconds: number }

const withRetry = (err: Error, cause: unknown): RedisProblem => ({ err, retryAfterSeconds: retryAfterSeconds(cause) })

/** What to grant, from the NOPERM reply's wording (command, key or channel) and the gateway's key shapes. */
export function deniedDetail (err: Error, prefix: string): string {
  // ioredis attaches the failed command; its name (never its arguments) says which request it was.
  const name = (err as { command?: { name?: unknown } }).command?.name
  const sent = typeof name === 'string' && /^[a-z|]{1,32}$/i.test(name) && !/^eval/i.test(name) ? `${name.toUpperCase()}: ` : ''
  return sent + grantFor(err, prefix)
}

function grantFor (err: Error, prefix: string): string {
  const m = err.message
  const command = /'([\w|]+)' command/.exec(m)?.[1]
  // ioredis sends the script by EVALSHA, and by EVAL when Redis does not have it: both are needed.
  if (command === 'eval' || command === 'evalsha') return 'the ACL user may not run EVALSHA / EVAL (grant +evalsha +eval)'
  if (command !== undefined) return `the ACL user may not run ${command.toUpperCase()} (grant +${command.toLowerCase()})`
  if (/channel/.test(m)) return `the ACL user may not publish to the result channels (grant &${taskKeyPattern(prefix)})`
  if (/key/.test(m)) return `the ACL user may not access the result keys (grant ~${taskKeyPattern(prefix)})`
  // Inside a script Redis does not say which command: the store script sends GET, SET and PUBLISH.
  if (/can't run this command/.test(m)) return 'the ACL user may not run one of the store script\'s commands GET, SET, PUBLISH (grant +get +set +publish)'
  return 'the ACL user lacks a permission the gateway needs'
}

/** maxmemory and the policy from the last INFO (CONFIG may be renamed away); refreshed for the next answer. */
function memoryDetail (app: FastifyInstance): [string, string] {
  if (!app.hasDecorator('redisInfo')) return ['', 'unknown']
  const node = app.redisInfo.nodes.values().next().value
  app.redisInfo.refresh().catch(() => {})
  if (node === undefined) return ['', 'unknown']
  return [node.maxmemoryBytes > 0 ? ` (${node.maxmemoryBytes} bytes)` : '', node.maxmemoryPolicy]
}

/** The problem for a Redis error, or null when it is not one the table (or the connection layer) knows. */
export function redisProblem (app: FastifyInstance, err: Error): RedisProblem | null {
  const kind = classifyRedisError(err)
  const row = replyRow(err.message)
  if (kind === 'lost' && app.hasDecorator('redis')) {
    // A timeout on a connection whose credentials Redis refused is that refusal, not a slow Redis.
    const auth = authFailure(app.redis)
    if (auth !== undefined) return withRetry(new RedisUnavailable(unavailableReason(auth)), auth)
  }
  if (kind === 'refused' || kind === 'lost' || kind === 'auth') return withRetry(new RedisUnavailable(unavailableReason(err)), err)
  if (kind === 'full') {
    if (row?.code === 'RG_REDIS_CANNOT_PERSIST') return withRetry(new RedisCannotPersist(), err)
    return withRetry(new RedisOutOfMemory(...memoryDetail(app)), err)
  }
  if (kind === 'denied') {
    const prefix = app.hasDecorator('settings') ? app.settings.redis.keyPrefix : ''
    return withRetry(new RedisDenied(deniedDetail(err, prefix)), err)
  }
  return null
}
