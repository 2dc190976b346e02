/**
 * The delivery queue: a Redis Stream read by one consumer group (every replica a consumer), a sorted set of
 * retries by due time, and claims that make each (subscription, task, state) enqueue once. A delivery leaves the
 * stream only when it is finished or moved to the retry set (both atomic, in Lua); one a replica held past the
 * visibility timeout without renewing it (killed, frozen) is taken over with XAUTOCLAIM.
 */
import type { RedisClient } from '../redis/connect.js'
import { webhookClaimKey, webhookStateKeys } from '../celery/keys.js'

export const GROUP = 'result-gateway'

/** One queued delivery; every value a string, as a stream entry holds it. */
export interface Delivery {
  /** "task" or "standing" */
  kind: string
  /** standing: the webhook's name; task: the registration id */
  sub: string
  prefix: string
  task: string
  state: string
  wid: string
  body: string
  /** attempts made so far */
  attempt: string
  /** when it was first enqueued, ms */
  first: string
}

export interface QueuedDelivery { id: string, delivery: Delivery }

const FIELDS: Array<keyof Delivery> = ['kind', 'sub', 'prefix', 'task', 'state', 'wid', 'body', 'attempt', 'first']

function toDelivery (fields: string[]): Delivery | null {
  const m = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i] as string, fields[i + 1] as string)
  const d: Partial<Delivery> = {}
  for (const f of FIELDS) {
    const v = m.get(f)
    if (v === undefined) return null
    d[f] = v
  }
  return d as Delivery
}

type StreamEntries = Array<[string, string[] | null]>

/** Entries as deliveries; one whose fields were deleted (XAUTOCLAIM answers null for it) or are not ours is left out. */
function parseEntries (entries: StreamEntries): QueuedDelivery[] {
  return entries.flatMap(([id, fields]) => {
    const delivery = fields === null ? null : toDelivery(fields)
    return delivery === null ? [] : [{ id, delivery }]
  })
}

export class Queue {
  readonly #redis: RedisClient
  readonly keys: ReturnType<typeof webhookStateKeys>
  readonly #prefix: string
  readonly consumer: string

  constructor (redis: RedisClient, gatewayPrefix: string, consumer: string) {
    this.#redis = redis
    this.#prefix = gatewayPrefix
    this.keys = webhookStateKeys(gatewayPrefix)
    this.consumer = consumer
  }

  /** Creates the stream and the group if missing (every replica may; the second gets BUSYGROUP). */
  async ensureGroup (): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.keys.queue, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err
    }
  }

  /** Enqueues unless already claimed; true when this call enqueued it. */
  async enqueue (d: Delivery, claimTtlSeconds: number, counter: string): Promise<boolean> {
    const claim = webhookClaimKey(this.#prefix, d.wid.replace(/^msg_/, ''))
    const id = await this.#redis.enqueueWebhook(claim, this.keys.queue, this.keys.counters, claimTtlSeconds, counter,
      ...FIELDS.flatMap(f => [f, d[f]]))
    return id !== null
  }

  /** New entries for this consumer; blocks on `blocking` (a connection of its own) up to blockMs. */
  async read (blocking: RedisClient, count: number, blockMs: number): Promise<QueuedDelivery[]> {
    const res = await blocking.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', count, 'BLOCK', blockMs,
      'STREAMS', this.keys.queue, '>') as Array<[string, StreamEntries]> | null
    return res === null ? [] : parseEntries(res[0]?.[1] ?? [])
  }

  /** Takes over entries other consumers held longer than `idleMs` (XAUTOCLAIM). */
  async takeOver (idleMs: number, count: number): Promise<QueuedDelivery[]> {
    const res = await this.#redis.xautoclaim(this.keys.queue, GROUP, this.consumer, idleMs, '0-0', 'COUNT', count) as [string, StreamEntries, string[]?]
    return parseEntries(res[1])
  }

  /** Renews entries this consumer still holds (their idle time restarts), so no one takes them over. */
  async renew (ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 100) {
      await this.#redis.xclaim(this.keys.queue, GROUP, this.consumer, 0, ...ids.slice(i, i + 100), 'JUSTID')
    }
  }

  async finish (id: string, incr: string, decr: string): Promise<boolean> {
    return (await this.#redis.finishWebhook(this.keys.queue, this.keys.counters, GROUP, id, incr, decr)) === 1
  }

  async retryAt (id: string, d: Delivery, dueMs: number): Promise<boolean> {
    return (await this.#redis.retryWebhook(this.keys.queue, this.keys.retries, GROUP, id, dueMs, JSON.stringify(d))) === 1
  }

  /** Moves due retries back onto the stream; returns how many moved. */
  promote (nowMs: number, max: number): Promise<number> {
    return this.#redis.promoteWebhooks(this.keys.retries, this.keys.queue, nowMs, max)
  }

  /** Queue depth (ready, retrying) and the age of the oldest delivery not finished, in seconds. */
  async depth (nowMs: number): Promise<{ ready: number, retrying: number, oldestAgeSeconds: number }> {
    const [ready, retrying, head, soonest] = await Promise.all([
      this.#redis.xlen(this.keys.queue),
      this.#redis.zcard(this.keys.retries),
      this.#redis.xrange(this.keys.queue, '-', '+', 'COUNT', 1),
      this.#redis.zrange(this.keys.retries, 0, 0)
    ])
    const firsts: number[] = []
    const headFields = head[0]?.[1]
    if (headFields !== undefined) firsts.push(Number(toDelivery(headFields)?.first ?? nowMs))
    if (soonest[0] !== undefined) {
      try {
        firsts.push(Number((JSON.parse(soonest[0]) as Delivery).first))
      } catch { /* not ours: ignored */ }
    }
    const oldest = firsts.length === 0 ? nowMs : Math.min(...firsts)
    return { ready, retrying, oldestAgeSeconds: Math.max(0, (nowMs - oldest) / 1000) }
  }
}
