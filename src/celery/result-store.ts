/**
 * Celery results in Redis, I/O only: a handful of named reads (one task's document, with or without its TTL,
 * the stored bytes untouched, many documents, a group's document and chord counters), the store (atomic
 * SUCCESS-is-final + PUBLISH), expire / persist, forget. Turning bytes into a view is celery/view.ts's job.
 * No Fastify here; errors are domain errors the routes map to problems.
 */
import { redisCall, type CallOptions } from '../redis/call.js'
import { mgetBuffers, waitForReplicas, type RedisClient } from '../redis/connect.js'
import type { DurablePool } from '../redis/durable-pool.js'
import { classifyRedisError } from '../redis/errors.js'
import { ReadBatcher } from '../redis/read-batch.js'
import { StoreBatcher, storeItems, type StoreItem, type StoreReply } from '../redis/store-batch.js'
import { DecodeError, inflateStored, isCompressed, serializeMeta, type Serializer } from './codec.js'
import { chordKeys, groupKey, taskKey } from './keys.js'
import { toMeta } from './meta.js'
import { noopObserver, type ResultObserver } from './observer.js'
import { storeSpan } from '../tracing/spans.js'
import type { StoreRequest } from '../schemas/result.js'

export interface ResultStoreOptions {
  keyPrefix: string
  defaultTtlSeconds: number
  serializer: Serializer
  observer?: ResultObserver
  /** RG_RESULT_MAX_BYTES: largest inflated size of a compressed stored value (default: codec's 1 MiB). */
  maxInflatedBytes?: number
  /** Every call's deadline from the moment it asks (RG_REDIS_COMMAND_TIMEOUT_MS), failover retries included. */
  deadlineMs: number
  /** Where durable stores run their SET+WAIT; without it they run on the shared connection. */
  durable?: DurablePool
  /** The fetch routes' batched reads, shared by every prefix's store on one connection (one is made if not given). */
  reads?: ReadBatcher
  /** Batched stores on the shared connection, likewise. */
  writes?: StoreBatcher
}

/** What readStoredWithTtl finds: the bytes untouched, and the key's remaining TTL (-1: none). */
export interface StoredWithTtl {
  stored: Buffer
  /** As Redis's TTL says it: whole seconds, rounded. */
  ttlSeconds: number
  /** As PTTL says it: milliseconds. */
  ttlMs: number
}

/** A key holds a list, hash, set, … where a Celery document (a string) should be. */
function notADocument (): DecodeError {
  return new DecodeError('unknown', 'the key holds a Redis list, hash, set or other non-string value, not a Celery document')
}

/** WRONGTYPE → DecodeError (422 undecodable-result); anything else unchanged. */
function wrongTypeAsDecodeError (err: unknown): never {
  throw classifyRedisError(err) === 'wrongtype' ? notADocument() : err
}

/** A read whose WRONGTYPE answer means "not a document". */
function documentRead<T> (read: Promise<T>): Promise<T> {
  return read.then(undefined, wrongTypeAsDecodeError)
}

export type StoreOutcome =
  | { applied: true, ttlSeconds: number | null, published: number, replicas?: { requested: number, acknowledged: number } }
  | { applied: false, currentState: string, alreadyStored?: false }
  /** The same SUCCESS (but date_done) was already stored: a retried store; nothing written or published. */
  | { applied: false, currentState: 'SUCCESS', alreadyStored: true, ttlSeconds: number | null }

/** Celery's chord counters while a chord runs: `.s` size, `.t` adjustment, `.j` parts done (zset or list). */
export interface ChordCounters { size: number, adjustment: number | null, partsDone: number }

/** A counter read: WRONGTYPE (the other of zset/list, see readChordCounters) reads as absent. */
function counter (p: Promise<string | number | null>): Promise<number | null> {
  return p.then(v => v === null ? null : Number(v), (err: unknown) => {
    if (err instanceof Error && err.message.startsWith('WRONGTYPE')) return null
    throw err
  })
}

/** One store in a call of its own (a durable store's connection is its alone until its WAIT is answered). */
async function storedAlone (client: RedisClient, item: StoreItem): Promise<StoreReply> {
  const [reply] = await storeItems(client, [item])
  if (reply === undefined || reply instanceof Error) throw reply ?? new Error('the store script answered nothing')
  return reply
}

export class ResultStore {
  readonly #redis: RedisClient
  readonly #options: ResultStoreOptions
  readonly #observer: ResultObserver
  readonly #reads: ReadBatcher
  readonly #writes: StoreBatcher

  constructor (redis: RedisClient, options: ResultStoreOptions) {
    this.#redis = redis
    this.#options = options
    this.#observer = options.observer ?? noopObserver
    this.#reads = options.reads ?? new ReadBatcher(redis)
    this.#writes = options.writes ?? new StoreBatcher(redis)
  }

  /** Every call's deadline (RG_REDIS_COMMAND_TIMEOUT_MS), for callers that bound several reads as one. */
  get deadlineMs (): number {
    return this.#options.deadlineMs
  }

  /** The channel a task's result is published on: Celery publishes on the key name. */
  channel (taskId: string): string {
    return taskKey(this.#options.keyPrefix, taskId)
  }

  /** `op` on the data client under the request deadline, with failover retries (see redis/call.ts). */
  #call<T> (op: () => Promise<T>, readOnly: boolean, client: RedisClient = this.#redis): Promise<T> {
    const opts: CallOptions = { deadlineMs: this.#options.deadlineMs, readOnly }
    return redisCall(client, op, opts)
  }

  #inflate (stored: Buffer): Promise<Buffer> {
    return inflateStored(stored, this.#options.maxInflatedBytes)
  }

  /**
   * One task's document, or null when the key does not exist: compressed values (written by other tools) are
   * inflated off the event loop and capped at maxInflatedBytes; one that fails decodes to its DecodeError.
   * DecodeError when the key holds something that is not a string.
   */
  async readDocument (taskId: string): Promise<Buffer | null> {
    const key = this.channel(taskId)
    const stored = await documentRead(this.#call(() => this.#redis.getBuffer(key), true))
    if (stored === null) return null
    this.#observer.payload('read', stored.length)
    return await this.#inflate(stored)
  }

  /**
   * The stored bytes, untouched, and the key's remaining TTL, for answers whose caching headers depend on the
   * TTL; null when nothing is stored. Read with every other fetch of this turn of the event loop in one script
   * call (redis/read-batch.ts): two commands per request (GET, TTL) cost the client more than the rest of a
   * fetch's Redis work.
   */
  readStoredWithTtl (taskId: string): Promise<StoredWithTtl | null> {
    const key = this.channel(taskId)
    // The fetch route's hot path: plain promise chains, no async frames (each is a promise and a microtask).
    return this.#call(() => this.#reads.read(key), true).then(found => {
      if ('wrongType' in found) throw notADocument()
      if (found.value === null) return null
      this.#observer.payload('read', found.value.length)
      const ttlMs = found.pttlMs
      return { stored: found.value, ttlMs, ttlSeconds: ttlMs < 0 ? ttlMs : Math.floor((ttlMs + 500) / 1000) }
    })
  }

  /** readStoredWithTtl with compressed values inflated (off the event loop, capped), as readDocument. */
  readDocumentWithTtl (taskId: string): Promise<{ document: Buffer, ttlSeconds: number } | null> {
    return this.readStoredWithTtl(taskId).then(found => {
      if (found === null) return null
      if (!isCompressed(found.stored)) return { document: found.stored, ttlSeconds: found.ttlSeconds }
      return this.#inflate(found.stored).then(document => ({ document, ttlSeconds: found.ttlSeconds }))
    })
  }

  /**
   * Documents of many tasks in one round trip (MGET); null where nothing is stored, a DecodeError where
   * the key holds something that is not a string. MGET answers nil for those, so the nil ones (and only
   * they) are asked their TYPE: one more auto-pipelined round trip when some ids have nothing stored.
   * Compressed values are inflated off the event loop, capped (a failure decodes to its DecodeError later).
   */
  async readDocuments (taskIds: string[]): Promise<Array<Buffer | null | DecodeError>> {
    const keys = taskIds.map(id => this.channel(id))
    const found: Array<Buffer | null | DecodeError> = await this.#call(() => mgetBuffers(this.#redis, keys), true)
    const missing = found.flatMap((stored, i) => stored === null ? [i] : [])
    if (missing.length > 0) {
      // An ACL from before TYPE was in the documented rule: those ids stay "not found", as before.
      const types = await this.#call(() => Promise.all(missing.map(i => this.#redis.type(keys[i] as string))), true)
        .catch((err: unknown) => { if (classifyRedisError(err) === 'denied') return []; throw err })
      types.forEach((type, j) => { if (type !== 'none') found[missing[j] as number] = notADocument() })
    }
    for (const stored of found) if (stored instanceof Buffer) this.#observer.payload('read', stored.length)
    return await Promise.all(found.map(stored => stored instanceof Buffer ? this.#inflate(stored) : stored))
  }

  /**
   * A saved group's document (inflated as readDocument), or null when the group was not saved (or has
   * expired). A sorted set or list at the key is not a saved group but Celery's own chord bookkeeping:
   * `celery-taskset-meta-<G>.j` holds the finished parts of chord G while it runs (result_chord_ordered), so
   * group id "G.j" reads as "no saved group". Any other non-string value is a DecodeError.
   */
  async readGroupDocument (groupId: string): Promise<Buffer | null> {
    const key = groupKey(this.#options.keyPrefix, groupId)
    let stored: Buffer | null
    try {
      stored = await this.#call(() => this.#redis.getBuffer(key), true)
    } catch (err) {
      if (classifyRedisError(err) !== 'wrongtype') throw err
      const type = await this.#call(() => this.#redis.type(key), true)
      if (type === 'zset' || type === 'list') return null
      throw notADocument()
    }
    return stored === null ? null : await this.#inflate(stored)
  }

  /** Chord counters while they exist (Celery deletes them when the chord body runs), else null. */
  async readChordCounters (groupId: string): Promise<ChordCounters | null> {
    const keys = chordKeys(this.#options.keyPrefix, groupId)
    const redis = this.#redis
    // `.j` is a sorted set or a list depending on result_chord_ordered: the other command fails WRONGTYPE.
    // Separate commands, not one pipeline: in a Cluster the three keys live in different slots
    // (auto-pipelining still sends them in one round trip per node).
    const [size, adjustment, zparts, lparts] = await this.#call(() => Promise.all([
      counter(redis.get(keys.size)), counter(redis.get(keys.sizeDiff)), counter(redis.zcard(keys.parts)), counter(redis.llen(keys.parts))
    ]), true)
    if (size === null) return null
    return { size, adjustment, partsDone: Math.max(zparts ?? 0, lparts ?? 0) }
  }

  /** TTL to apply: request value, null = none, undefined = the configured default (0 = none). */
  resolveTtl (ttl: number | null | undefined): number | null {
    if (ttl === undefined) return this.#options.defaultTtlSeconds > 0 ? this.#options.defaultTtlSeconds : null
    return ttl
  }

  /**
   * Stores the result; with `durable.replicas` > 0 also waits (Redis WAIT) until that many replicas hold
   * it and reports how many did — the caller decides what too few means.
   */
  async store (taskId: string, req: StoreRequest, durable?: { replicas: number, timeoutMs: number }): Promise<StoreOutcome> {
    const ttl = this.resolveTtl(req.ttlSeconds)
    const payload = serializeMeta(toMeta(taskId, req), this.#options.serializer)
    const key = this.channel(taskId)
    const item: StoreItem = { key, payload, ttlSeconds: ttl ?? 0 }
    const write = async (client: RedisClient): Promise<StoreOutcome> => {
      // With the other stores of this turn on the shared connection; alone on a durable one (its WAIT follows).
      const send = client === this.#redis ? () => this.#writes.store(item) : () => storedAlone(client, item)
      // Retried only when Redis refused it (nothing ran): see CallOptions.readOnly.
      const [applied, info] = await storeSpan(taskId, key, () => this.#call(send, false, client))
      if (applied === 2) {
        const left = Number(info)
        return { applied: false, currentState: 'SUCCESS', alreadyStored: true, ttlSeconds: left >= 0 ? left : null }
      }
      if (applied !== 1) {
        this.#observer.refused()
        return { applied: false, currentState: String(info) }
      }
      this.#observer.payload('write', typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)
      this.#observer.stored(req.state)
      const out: StoreOutcome = { applied: true, ttlSeconds: ttl, published: Number(info) }
      if (durable !== undefined && durable.replicas > 0) {
        // Same connection as the write: WAIT counts the writes sent on its own connection.
        const acknowledged = await waitForReplicas(client, key, durable.replicas, durable.timeoutMs)
        out.replicas = { requested: durable.replicas, acknowledged }
      }
      return out
    }
    const pool = this.#options.durable
    if (durable === undefined || durable.replicas === 0 || pool === undefined) return write(this.#redis)
    return pool.run(write, { key, replicas: durable.replicas })
  }

  /** Sets (ttl > 0) or removes (null) the TTL; returns the remaining TTL, or undefined when no result exists. */
  async expire (taskId: string, ttlSeconds: number | null): Promise<number | null | undefined> {
    const key = this.channel(taskId)
    const res = await this.#call(() => {
      const multi = this.#redis.multi()
      if (ttlSeconds === null) multi.persist(key)
      else multi.expire(key, ttlSeconds)
      return multi.ttl(key).exec()
    }, false)
    const ttl = Number(res?.[1]?.[1] ?? -2)
    if (ttl === -2) return undefined
    return ttl === -1 ? null : ttl
  }

  /** Celery's forget(): deletes the result. True when something was deleted. */
  async forget (taskId: string): Promise<boolean> {
    // Deleting twice is harmless: retried like a read.
    const key = this.channel(taskId)
    return (await this.#call(() => this.#redis.del(key), true)) === 1
  }
}
