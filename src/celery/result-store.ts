/**
 * Reads and writes Celery results in Redis: fetch (view or raw bytes), store (atomic SUCCESS-is-final +
 * PUBLISH), expire / persist, forget. No Fastify here; errors are domain errors the routes map to problems.
 */
import { redisCall, type CallOptions } from '../redis/call.js'
import { mgetBuffers, waitForReplicas, type RedisClient } from '../redis/connect.js'
import type { DurablePool } from '../redis/durable-pool.js'
import { classifyRedisError } from '../redis/errors.js'
import { decodeMeta, DecodeError, detectFormat, inflateStored, isCompressed, serializeMeta, type Serializer, type DetectedFormat } from './codec.js'
import { jsonMembers } from './json-text.js'
import { taskKey } from './keys.js'
import { fastJsonView } from './fast-view.js'
import { READY_STATES, toMeta, toView } from './meta.js'
import { noopObserver, type ResultObserver } from './observer.js'
import type { ResultView, StoreRequest } from '../schemas/result.js'

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
}

/** A key holds a list, hash, set, … where a Celery document (a string) should be. */
export function notADocument (): DecodeError {
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

/** A view already serialized, with the two members a waiter decides on. */
export interface ViewText { state: string, ready: boolean, body: string }

export type StoreOutcome =
  | { applied: true, ttlSeconds: number | null, published: number, replicas?: { requested: number, acknowledged: number } }
  | { applied: false, currentState: string }

export class ResultStore {
  readonly redis: RedisClient
  readonly options: ResultStoreOptions
  readonly observer: ResultObserver

  constructor (redis: RedisClient, options: ResultStoreOptions) {
    this.redis = redis
    this.options = options
    this.observer = options.observer ?? noopObserver
  }

  key (taskId: string): string {
    return taskKey(this.options.keyPrefix, taskId)
  }

  /** `op` on the data client under the request deadline, with failover retries (see redis/call.ts). */
  call<T> (op: () => Promise<T>, readOnly: boolean, client: RedisClient = this.redis): Promise<T> {
    const opts: CallOptions = { deadlineMs: this.options.deadlineMs, readOnly }
    return redisCall(client, op, opts)
  }

  /** The stored bytes, untouched, or null when the key does not exist. DecodeError when it is not a string. */
  async getStored (taskId: string): Promise<Buffer | null> {
    const key = this.key(taskId)
    const raw = await documentRead(this.call(() => this.redis.getBuffer(key), true))
    if (raw !== null) this.observer.payload('read', raw.length)
    return raw
  }

  /**
   * The stored document, or null when the key does not exist: compressed values (written by other tools) are
   * inflated off the event loop and capped at maxInflatedBytes; one that fails decodes to its DecodeError.
   */
  async getRaw (taskId: string): Promise<Buffer | null> {
    const raw = await this.getStored(taskId)
    return raw === null ? null : await inflateStored(raw, this.options.maxInflatedBytes)
  }

  /**
   * The stored bytes, untouched, once they are known to be a Celery document a client can parse: a JSON
   * document must be valid JSON (grammar and UTF-8) with a string "status"; anything else throws DecodeError.
   */
  async getVerified (taskId: string): Promise<{ raw: Buffer, format: Serializer, ttlSeconds: number } | null> {
    const found = await this.getStoredWithTtl(taskId)
    if (found === null) return null
    const raw = found.stored
    const format = detectFormat(raw)
    if (format !== 'json' && format !== 'msgpack') {
      // Pickle and yaml are named, never parsed; anything else (compressed values included: they are served
      // inflated by the view routes only) is not a document to pass through.
      const err = new DecodeError(format, format === 'unknown' ? 'unrecognised serializer' : `${format} payload`)
      err.taskId = taskId
      this.observer.decodeError(format)
      throw err
    }
    // One validating pass for JSON; the scanner leaves a few valid oddities (\u escapes of letters, "__proto__"
    // keys) to the full decoder, which also judges msgpack.
    const status = format === 'json' ? jsonMembers(raw)?.get('status') : undefined
    if (status === undefined || raw[status[0]] !== 0x22) this.decodeView(raw, taskId)
    return { raw, format, ttlSeconds: found.ttlSeconds }
  }

  /** The view, or null when nothing is stored. Throws DecodeError for pickle/yaml/garbage. */
  async fetch (taskId: string): Promise<ResultView | null> {
    const raw = await this.getRaw(taskId)
    if (raw === null) return null
    return this.decodeView(raw, taskId)
  }

  /**
   * The view already serialized as JSON, or null when nothing is stored. JSON documents take the fast path
   * (no parse of the result itself); everything else goes through decodeView.
   */
  async fetchJson (taskId: string): Promise<string | null> {
    const raw = await this.getRaw(taskId)
    return raw === null ? null : this.viewJson(raw, taskId)
  }

  /** Like fetchJson, with the state and readiness a waiter needs. */
  async fetchText (taskId: string): Promise<ViewText | null> {
    const raw = await this.getRaw(taskId)
    return raw === null ? null : this.viewText(raw, taskId)
  }

  /**
   * Stored values of many tasks in one round trip (MGET); null where nothing is stored, a DecodeError where
   * the key holds something that is not a string. MGET answers nil for those, so the nil ones (and only
   * they) are asked their TYPE: one more auto-pipelined round trip when some ids have nothing stored.
   * Compressed values are inflated off the event loop, capped (a failure decodes to its DecodeError later).
   */
  async getRawMany (taskIds: string[]): Promise<Array<Buffer | null | DecodeError>> {
    const keys = taskIds.map(id => this.key(id))
    const raws: Array<Buffer | null | DecodeError> = await this.call(() => mgetBuffers(this.redis, keys), true)
    const missing = raws.flatMap((raw, i) => raw === null ? [i] : [])
    if (missing.length > 0) {
      // An ACL from before TYPE was in the documented rule: those ids stay "not found", as before.
      const types = await this.call(() => Promise.all(missing.map(i => this.redis.type(keys[i] as string))), true)
        .catch((err: unknown) => { if (classifyRedisError(err) === 'denied') return []; throw err })
      types.forEach((type, j) => { if (type !== 'none') raws[missing[j] as number] = notADocument() })
    }
    for (const raw of raws) if (raw instanceof Buffer) this.observer.payload('read', raw.length)
    return await Promise.all(raws.map(raw => raw instanceof Buffer ? inflateStored(raw, this.options.maxInflatedBytes) : raw))
  }

  /**
   * The stored bytes, untouched, and the key's remaining TTL in seconds (-1: none), for answers whose caching
   * headers depend on the TTL; null when nothing is stored. Two commands issued together ride the data
   * connection's auto-pipelining into one write with everyone else's: an explicit pipeline() would be a write
   * of its own per request and halved fetch throughput in bench/conditional.ts.
   */
  getStoredWithTtl (taskId: string): Promise<{ stored: Buffer, ttlSeconds: number } | null> {
    const key = this.key(taskId)
    // The fetch route's hot path: plain promise chains, no async frames (each is a promise and a microtask).
    return this.call(() => Promise.all([this.redis.getBuffer(key), this.redis.ttl(key)]), true).then(([stored, ttl]) => {
      if (stored === null) return null
      this.observer.payload('read', stored.length)
      return { stored, ttlSeconds: ttl }
    }, wrongTypeAsDecodeError)
  }

  /** getStoredWithTtl with compressed values inflated (off the event loop, capped), as getRaw. */
  getRawWithTtl (taskId: string): Promise<{ raw: Buffer, ttlSeconds: number } | null> {
    return this.getStoredWithTtl(taskId).then(found => {
      if (found === null) return null
      if (!isCompressed(found.stored)) return { raw: found.stored, ttlSeconds: found.ttlSeconds }
      return inflateStored(found.stored, this.options.maxInflatedBytes).then(raw => ({ raw, ttlSeconds: found.ttlSeconds }))
    })
  }

  /** Stored bytes → the serialized view (JSON text); throws DecodeError like decodeView. */
  viewJson (raw: Buffer, taskId: string): string {
    return this.viewText(raw, taskId).body
  }

  /**
   * Stored or published bytes → the serialized view and its state, the fetch route's fast path (no parse of
   * the result) for JSON documents; throws DecodeError like decodeView.
   */
  viewText (raw: Buffer, taskId: string): ViewText {
    if (raw[0] === 0x7b) {
      const fast = fastJsonView(raw, taskId)
      if (fast !== null) {
        this.observer.fetched(fast.state)
        return { state: fast.state, ready: READY_STATES.has(fast.state), body: fast.body }
      }
    }
    const view = this.decodeView(raw, taskId)
    return { state: view.state, ready: view.ready, body: JSON.stringify(view) }
  }

  /** Stored or published bytes → view; counts decode errors by the format that failed. */
  decodeView (raw: Buffer, taskId: string): ResultView {
    try {
      const { meta, plain } = decodeMeta(raw, this.options.maxInflatedBytes)
      this.observer.fetched(meta.status)
      return toView(meta, taskId, plain)
    } catch (err) {
      if (err instanceof DecodeError) {
        err.taskId = taskId
        this.observer.decodeError(err.format)
      }
      throw err
    }
  }

  /** TTL to apply: request value, null = none, undefined = the configured default (0 = none). */
  resolveTtl (ttl: number | null | undefined): number | null {
    if (ttl === undefined) return this.options.defaultTtlSeconds > 0 ? this.options.defaultTtlSeconds : null
    return ttl
  }

  /**
   * Stores the result; with `durable.replicas` > 0 also waits (Redis WAIT) until that many replicas hold
   * it and reports how many did — the caller decides what too few means.
   */
  async store (taskId: string, req: StoreRequest, durable?: { replicas: number, timeoutMs: number }): Promise<StoreOutcome> {
    const ttl = this.resolveTtl(req.ttlSeconds)
    const payload = serializeMeta(toMeta(taskId, req), this.options.serializer)
    const key = this.key(taskId)
    const write = async (client: RedisClient): Promise<StoreOutcome> => {
      // Retried only when Redis refused it (nothing ran): see CallOptions.readOnly.
      const [applied, info] = await this.call(() => client.storeResult(key, payload, ttl ?? 0), false, client)
      if (applied !== 1) {
        this.observer.refused()
        return { applied: false, currentState: String(info) }
      }
      this.observer.payload('write', typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)
      this.observer.stored(req.state)
      const out: StoreOutcome = { applied: true, ttlSeconds: ttl, published: Number(info) }
      if (durable !== undefined && durable.replicas > 0) {
        // Same connection as the write: WAIT counts the writes sent on its own connection.
        const acknowledged = await waitForReplicas(client, key, durable.replicas, durable.timeoutMs)
        out.replicas = { requested: durable.replicas, acknowledged }
      }
      return out
    }
    const pool = this.options.durable
    if (durable === undefined || durable.replicas === 0 || pool === undefined) return write(this.redis)
    return pool.run(write)
  }

  /** Sets (ttl > 0) or removes (null) the TTL; returns the remaining TTL, or undefined when no result exists. */
  async expire (taskId: string, ttlSeconds: number | null): Promise<number | null | undefined> {
    const key = this.key(taskId)
    const res = await this.call(() => {
      const multi = this.redis.multi()
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
    const key = this.key(taskId)
    return (await this.call(() => this.redis.del(key), true)) === 1
  }
}

export { DecodeError, type DetectedFormat }
