/**
 * Every Redis command the gateway sends, in one list: the metrics label them by name (anything else, a
 * future command, is "other") and the least-privilege ACL rule (acl.ts) grants them, in the ACL's own form
 * where only a subcommand is needed. A command the gateway starts sending is added here, once.
 */

interface RedisCommand {
  /** The name ioredis sends (Command.name), the metrics' `command` label. */
  name: string
  /** What the ACL grants: the command, its subcommands (`client|setname`), or nothing (see `why`). */
  acl: readonly string[]
  why?: string
}

const granted = (name: string, ...acl: string[]): RedisCommand => ({ name, acl: acl.length === 0 ? [name] : acl })

export const REDIS_COMMANDS: readonly RedisCommand[] = [
  // Results: read, store (Lua), expire / persist, forget, MGET for batches; chords: Celery's counters; waits:
  // Celery publishes on the key name. (In the documented ACL's order: docs/security.md shows the rule.)
  ...['get', 'set', 'del', 'mget', 'expire', 'persist', 'ttl', 'zcard', 'llen', 'publish', 'subscribe', 'unsubscribe',
    'evalsha', 'eval', 'multi', 'exec', 'ping', 'info'].map(n => granted(n)),
  // CLIENT ID and CLIENT TRACKING: the answer cache's tracking, redirected to its own connection (docs/cache.md).
  granted('client', 'client|setname', 'client|id', 'client|tracking'),
  // Rate limits (@fastify/rate-limit's Lua script).
  granted('pexpire'), granted('incr'), granted('pttl'),
  // Durable stores (WAIT); Sentinel: ioredis checks the master's ROLE; Cluster: slot map and readiness.
  granted('wait'), granted('role'), granted('cluster', 'cluster|slots', 'cluster|info'), granted('readonly'),
  // Tells "nothing stored" from "a list/hash/set stored" where MGET answers nil (422 instead of found=false).
  granted('type'),
  { name: 'auth', acl: [], why: 'always allowed: a user authenticates before any rule applies' },
  { name: 'select', acl: [], why: 'only with a database other than 0, which an ACL user confined by key pattern does not need' },
  { name: 'scan', acl: [], why: 'statistics, the orphan sweep and the doctor: operator tools, granted separately where wanted' }
]

/**
 * What webhooks (src/webhooks) send on top, granted by webhookAclRule only (a gateway without RG_WEBHOOK_SECRET
 * never sends them): registrations and standing webhooks (hashes), the delivery stream and its consumer group,
 * the retry set, the restart re-check (SCAN of registrations) and the PSUBSCRIBE on the result channels.
 */
export const WEBHOOK_REDIS_COMMANDS: readonly RedisCommand[] = [
  ...['hget', 'hgetall', 'hset', 'hdel', 'hmget', 'hincrby', 'xadd', 'xreadgroup', 'xautoclaim', 'xclaim', 'xack', 'xdel',
    'xlen', 'xrange', 'zadd', 'zrem', 'zrangebyscore', 'zrange', 'psubscribe', 'punsubscribe', 'scan'].map(n => granted(n)),
  granted('xgroup', 'xgroup|create')
]

/** The metrics' closed set of `command` label values (besides "other"). */
export const COMMAND_LABELS: ReadonlySet<string> = new Set([...REDIS_COMMANDS, ...WEBHOOK_REDIS_COMMANDS].map(c => c.name))

/** The webhooks' ACL +command list (without the `+`). */
export const WEBHOOK_ACL_COMMANDS: readonly string[] = WEBHOOK_REDIS_COMMANDS.flatMap(c => c.acl)

/** The ACL's +command list (without the `+`). */
export const ACL_COMMANDS: readonly string[] = REDIS_COMMANDS.flatMap(c => c.acl)
