/**
 * Reads and writes Celery results in Redis: fetch (view or raw bytes), store (atomic SUCCESS-is-final +
 * PUBLISH), expire / persist, forget. No Fastify here; errors are domain errors the routes map to problems.
 */
import type { Redis } from 'ioredis'
import { decodeMeta, DecodeError, encodeMeta, type Serializer, type DetectedFormat } from './codec.js'
import { taskKey } from './keys.js'
import { toMeta, toView } from './meta.js'
import type { ResultView, StoreRequest } from '../schemas/result.js'

export interface ResultStoreOptions {
  keyPrefix: string
  defaultTtlSeconds: number
  serializer: Serializer
}

export type StoreOutcome =
  | { applied: true, ttlSeconds: number | null, published: number }
  | { applied: false, currentState: string }

export class ResultStore {
  readonly redis: Redis
  readonly options: ResultStoreOptions

  constructor (redis: Redis, options: ResultStoreOptions) {
    this.redis = redis
    this.options = options
  }

  key (taskId: string): string {
    return taskKey(this.options.keyPrefix, taskId)
  }

  /** The stored bytes, untouched, or null when the key does not exist. */
  getRaw (taskId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.key(taskId))
  }

  /** The view, or null when nothing is stored. Throws DecodeError for pickle/yaml/garbage. */
  async fetch (taskId: string): Promise<ResultView | null> {
    const raw = await this.getRaw(taskId)
    if (raw === null) return null
    const { meta, plain } = decodeMeta(raw)
    return toView(meta, taskId, plain)
  }

  /** TTL to apply: request value, null = none, undefined = the configured default (0 = none). */
  resolveTtl (ttl: number | null | undefined): number | null {
    if (ttl === undefined) return this.options.defaultTtlSeconds > 0 ? this.options.defaultTtlSeconds : null
    return ttl
  }

  async store (taskId: string, req: StoreRequest): Promise<StoreOutcome> {
    const ttl = this.resolveTtl(req.ttlSeconds)
    const payload = encodeMeta(toMeta(taskId, req), this.options.serializer)
    const [applied, info] = await this.redis.storeResult(this.key(taskId), payload, ttl ?? 0)
    if (applied === 1) return { applied: true, ttlSeconds: ttl, published: Number(info) }
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
