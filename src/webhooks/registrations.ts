/**
 * Webhook registrations in Redis: per-task ones (a hash next to the result, with the result's TTL) and standing
 * ones (one hash of name → JSON, with counters). Redis I/O only; what a delivery does with them is in worker.ts.
 */
import { randomBytes } from 'node:crypto'
import type { RedisClient } from '../redis/connect.js'
import { webhookKey, webhookStateKeys } from '../celery/keys.js'

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled'

/** A per-task registration as stored (every field a string in the hash). */
export interface TaskWebhook {
  id: string
  url: string
  states: string[]
  status: DeliveryStatus
  attempts: number
  createdAt: string
  webhookId: string | null
  lastStatusCode: number | null
  lastAttemptAt: string | null
  lastError: string | null
  deliveredAt: string | null
}

export interface StandingWebhook {
  name: string
  url: string
  keyPrefix: string
  states: string[]
  createdAt: string
}

export interface StandingCounters { delivered: number, failed: number, pending: number, cancelled: number }

const STATUSES = new Set<string>(['pending', 'delivering', 'delivered', 'failed', 'cancelled'])

export function toTaskWebhook (h: Record<string, string>): TaskWebhook | null {
  if (h.id === undefined || h.url === undefined) return null
  const num = (v: string | undefined): number | null => v === undefined || v === '' ? null : Number(v)
  const str = (v: string | undefined): string | null => v === undefined || v === '' ? null : v
  return {
    id: h.id,
    url: h.url,
    states: (h.states ?? '').split(',').filter(s => s !== ''),
    status: (STATUSES.has(h.status ?? '') ? h.status : 'pending') as DeliveryStatus,
    attempts: num(h.attempts) ?? 0,
    createdAt: h.createdAt ?? '',
    webhookId: str(h.webhookId),
    lastStatusCode: num(h.lastStatusCode),
    lastAttemptAt: str(h.lastAttemptAt),
    lastError: str(h.lastError),
    deliveredAt: str(h.deliveredAt)
  }
}

export class Registrations {
  readonly #redis: RedisClient
  /** where the stream, retry set, standing webhooks and counters live (the gateway's own prefix) */
  readonly state: ReturnType<typeof webhookStateKeys>

  constructor (redis: RedisClient, gatewayPrefix: string) {
    this.#redis = redis
    this.state = webhookStateKeys(gatewayPrefix)
  }

  /** Replaces the task's registration (a fresh id: a replaced one's deliveries stop); ttl 0 = no expiry. */
  async putTask (prefix: string, taskId: string, url: string, states: string[], ttlSeconds: number): Promise<TaskWebhook> {
    const key = webhookKey(prefix, taskId)
    const reg: Record<string, string> = {
      id: randomBytes(9).toString('base64url'),
      url,
      states: states.join(','),
      status: 'pending',
      attempts: '0',
      createdAt: new Date().toISOString()
    }
    const multi = this.#redis.multi().del(key).hset(key, reg)
    if (ttlSeconds > 0) multi.expire(key, ttlSeconds)
    await multi.exec()
    return toTaskWebhook(reg) as TaskWebhook
  }

  async getTask (prefix: string, taskId: string): Promise<TaskWebhook | null> {
    return toTaskWebhook(await this.#redis.hgetall(webhookKey(prefix, taskId)))
  }

  async deleteTask (prefix: string, taskId: string): Promise<boolean> {
    return (await this.#redis.del(webhookKey(prefix, taskId))) === 1
  }

  /** Records delivery progress, only while registration `id` is still the task's one (and, if given, in that status). */
  async updateTask (prefix: string, taskId: string, id: string, fields: Record<string, string | number>, onlyIfStatus: DeliveryStatus | '' = ''): Promise<boolean> {
    const pairs = Object.entries(fields).flatMap(([k, v]) => [k, String(v)])
    return (await this.#redis.updateWebhook(webhookKey(prefix, taskId), id, onlyIfStatus, ...pairs)) === 1
  }

  /** Remaining TTL of a key in seconds (null: none or no key). */
  async ttlOf (key: string): Promise<number | null> {
    const ttl = await this.#redis.ttl(key)
    return ttl > 0 ? ttl : null
  }

  async putStanding (w: Omit<StandingWebhook, 'createdAt'>): Promise<StandingWebhook> {
    const stored: StandingWebhook = { ...w, createdAt: new Date().toISOString() }
    await this.#redis.hset(this.state.standing, w.name, JSON.stringify(stored))
    return stored
  }

  async listStanding (): Promise<StandingWebhook[]> {
    const all = await this.#redis.hgetall(this.state.standing)
    return Object.values(all).flatMap(v => {
      try {
        return [JSON.parse(v) as StandingWebhook]
      } catch {
        return []
      }
    }).sort((a, b) => a.name.localeCompare(b.name))
  }

  async getStanding (name: string): Promise<StandingWebhook | null> {
    const v = await this.#redis.hget(this.state.standing, name)
    return v === null ? null : JSON.parse(v) as StandingWebhook
  }

  /** Removes a standing webhook and its counters; queued deliveries for it are dropped when they come up. */
  async deleteStanding (name: string): Promise<boolean> {
    const [[, removed] = []] = await this.#redis.multi()
      .hdel(this.state.standing, name)
      .hdel(this.state.counters, ...counterFields(name))
      .exec() ?? []
    return removed === 1
  }

  async counters (names: string[]): Promise<Map<string, StandingCounters>> {
    const out = new Map<string, StandingCounters>()
    if (names.length === 0) return out
    const values = await this.#redis.hmget(this.state.counters, ...names.flatMap(counterFields))
    names.forEach((name, i) => {
      const [delivered, failed, pending, cancelled] = values.slice(i * 4, i * 4 + 4).map(v => Math.max(0, Number(v ?? 0)))
      out.set(name, { delivered: delivered ?? 0, failed: failed ?? 0, pending: pending ?? 0, cancelled: cancelled ?? 0 })
    })
    return out
  }
}

/** The counters hash fields of one standing webhook. */
export function counterFields (name: string): [string, string, string, string] {
  return [`${name}:delivered`, `${name}:failed`, `${name}:pending`, `${name}:cancelled`]
}
