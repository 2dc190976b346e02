/**
 * Reads and writes Celery results in Redis: fetch (view or raw bytes), store (atomic SUCCESS-is-final +
 * PUBLISH), expire / persist, forget. No Fastify here; errors are domain errors the routes map to problems.
 */
import { mgetBuffers, waitForReplicas, type RedisClient } from '../redis/connect.js'
import { decodeMeta, DecodeError, serializeMeta, type Serializer, type DetectedFormat } from './codec.js'
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

  /** The stored bytes, untouched, or null when the key does not exist. */
  async getRaw (taskId: string): Promise<Buffer | null> {
    const raw = await this.redis.getBuffer(this.key(taskId))
    if (raw !== null) this.observer.payload('read', raw.length)
    return raw
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

  /** Stored values of many tasks in one round trip (MGET); null where nothing is stored. */
  async getRawMany (taskIds: string[]): Promise<Array<Buffer | null>> {
    const raws = await mgetBuffers(this.redis, taskIds.map(id => this.key(id)))
    for (const raw of raws) if (raw !== null) this.observer.payload('read', raw.length)
    return raws
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
      const { meta, plain } = decodeMeta(raw)
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
    const [applied, info] = await this.redis.storeResult(key, payload, ttl ?? 0)
    if (applied === 1) {
      this.observer.payload('write', typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)
      this.observer.stored(req.state)
      const out: StoreOutcome = { applied: true, ttlSeconds: ttl, published: Number(info) }
      if (durable !== undefined && durable.replicas > 0) {
        const acknowledged = await waitForReplicas(this.redis, key, durable.replicas, durable.timeoutMs)
        out.replicas = { requested: durable.replicas, acknowledged }
      }
      return out
    }
    this.observer.refused()
    return { applied: false, currentState: String(info) }
  }

  /** Sets (ttl > 0) or removes (null) the TTL; returns the remaining TTL, or undefined when no result exists. */
  async expire (taskId: string, ttlSeconds: number | null): Promise<number | null | undefined> {
    const key = this.key(taskId)
    const multi = this.redis.multi()
    if (ttlSeconds === null) multi.persist(key)
    else multi.expire(key, ttlSeconds)
    const res = await multi.ttl(key).exec()
    const ttl = Number(res?.[1]?.[1] ?? -2)
    if (ttl === -2) return undefined
    return ttl === -1 ? null : ttl
  }

  /** Celery's forget(): deletes the result. True when something was deleted. */
  async forget (taskId: string): Promise<boolean> {
    return (await this.redis.del(this.key(taskId))) === 1
  }
}

export { DecodeError, type DetectedFormat }
