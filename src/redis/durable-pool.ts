/**
 * Dedicated connections for durable stores. Redis WAIT blocks the connection it is sent on for up to its
 * timeout, and only counts the writes sent on that same connection; on the shared auto-pipelined data
 * connection it stalled every read, store and /readyz PING queued behind it. Here each durable store leases
 * one connection of a small pool, runs its script and its WAIT there, and gives it back: a WAIT only ever
 * delays the durable store that asked for it. Bounded on both sides: `size` connections (opened on first
 * use), `queue` stores waiting for one, each for at most `queueTimeoutMs` → 503 overloaded beyond that.
 * A store that asks for more replicas than the master has connected (INFO replication, kept fresh by
 * RedisInfoWatch) is refused before it leases anything: the queue only holds WAITs that can succeed.
 */
import { Overloaded, TooFewReplicas } from '../errors.js'
import { watchAuth } from './auth-state.js'
import type { RedisInfoWatch } from './info-watch.js'
import { closeRedis, createRedis, type RedisClient } from './connect.js'
import { defineScripts } from './scripts.js'
import type { RedisSettings } from './settings.js'

interface Queued { resolve: (c: RedisClient) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }

export class DurablePool {
  readonly #cfg: RedisSettings
  readonly #onError: (err: Error) => void
  readonly #info: RedisInfoWatch | undefined
  readonly #idle: RedisClient[] = []
  readonly #all: RedisClient[] = []
  readonly #queue: Queued[] = []
  #closed = false

  constructor (cfg: RedisSettings, onError: (err: Error) => void, info?: RedisInfoWatch) {
    this.#cfg = cfg
    this.#onError = onError
    this.#info = info
  }

  /** Connections open, leased and stores queued: for metrics and tests. */
  get stats (): { open: number, busy: number, queued: number } {
    return { open: this.#all.length, busy: this.#all.length - this.#idle.length, queued: this.#queue.length }
  }

  /**
   * Runs `work` on a connection of its own; 503 overloaded when none frees up in time. With `need`, first
   * 503 not-replicated when the master of `need.key` has fewer connected replicas than `need.replicas`.
   */
  async run<T> (work: (client: RedisClient) => Promise<T>, need?: { key: string, replicas: number }): Promise<T> {
    if (need !== undefined) await this.#checkReplicas(need.key, need.replicas)
    const client = await this.#lease()
    try {
      return await work(client)
    } finally {
      this.#release(client)
    }
  }

  async #checkReplicas (key: string, replicas: number): Promise<void> {
    const info = this.#info
    if (info === undefined || (info.nodeFor(key)?.connectedReplicas ?? -1) >= replicas) return
    // The figure may be up to INFO_REFRESH_MS old, or not read yet (just started, just reconnected): one fresh
    // look (shared by every store asking at the same moment) before the store is refused. Still unknown (INFO
    // failed): the store goes ahead, and its WAIT tells.
    await info.refresh().catch(() => {})
    const node = info.nodeFor(key)
    if (node !== undefined && node.connectedReplicas < replicas) throw new TooFewReplicas(node.connectedReplicas, replicas)
  }

  #lease (): Promise<RedisClient> {
    const idle = this.#idle.pop()
    if (idle !== undefined) return Promise.resolve(idle)
    const { connections, queue } = this.#cfg.durable
    if (this.#all.length < connections) return Promise.resolve(this.#open())
    if (this.#queue.length >= queue) return Promise.reject(new Overloaded('durable-store queue (RG_REDIS_DURABLE_QUEUE)'))
    return new Promise<RedisClient>((resolve, reject) => {
      const entry: Queued = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#queue.splice(this.#queue.indexOf(entry), 1)
          reject(new Overloaded('durable-store connections (RG_REDIS_DURABLE_CONNECTIONS)'))
        }, this.#cfg.commandTimeoutMs)
      }
      this.#queue.push(entry)
    })
  }

  #release (client: RedisClient): void {
    const next = this.#queue.shift()
    if (next === undefined) {
      this.#idle.push(client)
      return
    }
    clearTimeout(next.timer)
    next.resolve(client)
  }

  #open (): RedisClient {
    if (this.#closed) throw new Error('Connection is closed')
    const client = createRedis(this.#cfg, 'durable')
    defineScripts(client)
    client.on('error', this.#onError)
    watchAuth(client)
    this.#all.push(client)
    return client
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const q of this.#queue.splice(0)) {
      clearTimeout(q.timer)
      q.reject(new Error('Connection is closed'))
    }
    await Promise.all(this.#all.map(c => closeRedis(c)))
  }
}
