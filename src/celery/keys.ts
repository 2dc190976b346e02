/**
 * The only place that builds Redis keys. Every key is the configured prefix (Celery's global_keyprefix)
 * + Celery's fixed key prefix + an id that matched TaskIdSchema (or, for the gateway's own rate-limit
 * counters, its fixed prefix + the limiter's key). The channel Celery publishes on is the key.
 * @see celery/backends/base.py KeyValueStoreBackend.task_keyprefix / group_keyprefix
 */
const ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._:@+-]{0,254}$/

export const TASK_KEYPREFIX = 'celery-task-meta-'
export const GROUP_KEYPREFIX = 'celery-taskset-meta-'
/** The gateway's own keys: @fastify/rate-limit's counters (its nameSpace), shared by every replica. */
export const RATE_LIMIT_KEYPREFIX = 'result-gateway-rate-'

/** Celery 5.3+: `global_keyprefix` gets `_` appended unless it already ends in one of `:_-.`. */
export function normalizeKeyPrefix (prefix: string): string {
  if (prefix === '' || /[:_\-.]$/.test(prefix)) return prefix
  return `${prefix}_`
}

export class InvalidIdError extends Error {
  override name = 'InvalidIdError'
}

function checkedId (id: string): string {
  // Routes validate ids already; this second check keeps the namespace closed for any other caller.
  if (!ID.test(id)) throw new InvalidIdError('invalid task id')
  return id
}

export function taskKey (prefix: string, taskId: string): string {
  return `${prefix}${TASK_KEYPREFIX}${checkedId(taskId)}`
}

/** What every task result key under `prefix` starts with (the answer cache tracks these prefixes). */
export function taskKeyHead (prefix: string): string {
  return `${prefix}${TASK_KEYPREFIX}`
}

export function groupKey (prefix: string, groupId: string): string {
  return `${prefix}${GROUP_KEYPREFIX}${checkedId(groupId)}`
}

const globSafe = (prefix: string): string => prefix.replace(/[*?[\]\\]/g, '\\$&')

/**
 * Glob (SCAN MATCH, ACL key and channel pattern) of every task result under `prefix` (prefix characters are
 * never glob specials).
 */
export function taskKeyPattern (prefix: string): string {
  return `${globSafe(prefix)}${TASK_KEYPREFIX}*`
}

/** Glob of every saved group and chord counter under `prefix`. */
export function groupKeyPattern (prefix: string): string {
  return `${globSafe(prefix)}${GROUP_KEYPREFIX}*`
}

/** The rate limiter's nameSpace under `prefix`: it appends its own key (token or IP) to this. */
export function rateLimitNamespace (prefix: string): string {
  return `${prefix}${RATE_LIMIT_KEYPREFIX}`
}

/** Glob of every rate-limit counter under `prefix`. */
export function rateLimitKeyPattern (prefix: string): string {
  return `${globSafe(prefix)}${RATE_LIMIT_KEYPREFIX}*`
}

/** The task id of a key built by taskKey, or null for any other key. */
export function taskIdOfKey (prefix: string, key: string): string | null {
  const head = taskKeyHead(prefix)
  return key.startsWith(head) && ID.test(key.slice(head.length)) ? key.slice(head.length) : null
}

export function isValidId (id: string): boolean {
  return ID.test(id)
}

/**
 * Celery's chord bookkeeping for a group (Redis backend, 5.2–5.6): `.s` the chord size, `.t` a size
 * adjustment, `.j` the finished header parts (a sorted set, or a list when result_chord_ordered is off).
 * @see celery/backends/redis.py set_chord_size, on_chord_part_return
 */
export function chordKeys (prefix: string, groupId: string): { size: string, sizeDiff: string, parts: string } {
  const base = groupKey(prefix, groupId)
  return { size: `${base}.s`, sizeDiff: `${base}.t`, parts: `${base}.j` }
}

/**
 * Webhooks (src/webhooks): a per-task registration `<prefix>rg-webhook:<taskId>` (a hash, next to the result it
 * watches), and the gateway's own delivery state under one hash tag, so the Lua scripts that move a delivery
 * between them touch one cluster slot: the stream, the retry set, the standing webhooks, their counters and the
 * "already enqueued" claims. A prefix holding its own `{…}` tag wins, which keeps them together just the same.
 */
export const WEBHOOK_KEYPREFIX = 'rg-webhook:'
const WEBHOOK_STATE = '{rg-webhook}:'

export function webhookKey (prefix: string, taskId: string): string {
  return `${prefix}${WEBHOOK_KEYPREFIX}${checkedId(taskId)}`
}

/** SCAN MATCH pattern of every per-task webhook registration under `prefix`. */
export function webhookKeyPattern (prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${WEBHOOK_KEYPREFIX}*`
}

/** The task id of a registration key built by webhookKey, or null. */
export function taskIdOfWebhookKey (prefix: string, key: string): string | null {
  const head = `${prefix}${WEBHOOK_KEYPREFIX}`
  return key.startsWith(head) && ID.test(key.slice(head.length)) ? key.slice(head.length) : null
}

/** PSUBSCRIBE pattern of every result channel under `prefix` (Celery publishes on the key name). */
export function taskChannelPattern (prefix: string): string {
  return taskKeyPattern(prefix)
}

/** ACL pattern of the gateway's webhook delivery state (stream, retry set, standing webhooks, counters, claims). */
export function webhookStatePattern (prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${WEBHOOK_STATE}*`
}

/** The gateway's webhook delivery state: queue (stream), retries (sorted set), standing webhooks and counters. */
export function webhookStateKeys (prefix: string): { queue: string, retries: string, standing: string, counters: string } {
  const base = `${prefix}${WEBHOOK_STATE}`
  return { queue: `${base}queue`, retries: `${base}retries`, standing: `${base}standing`, counters: `${base}counters` }
}

/** The claim that a delivery (a digest of subscription, task and state) was enqueued once. */
export function webhookClaimKey (prefix: string, digest: string): string {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(digest)) throw new InvalidIdError('invalid webhook digest')
  return `${prefix}${WEBHOOK_STATE}claim:${digest}`
}
