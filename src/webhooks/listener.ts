/**
 * Sees every result published under the prefixes webhooks may watch: one PSUBSCRIBE per prefix on a connection
 * of its own (Celery workers and the gateway's store both PUBLISH the document on the key name). Refreshes the
 * standing webhooks from Redis, and re-checks the per-task registrations (SCAN, never KEYS) at start and after
 * every reconnect: a result written while no replica listened is still delivered.
 */
import type { Redis } from 'ioredis'
import { taskChannelPattern, taskIdOfKey, taskIdOfWebhookKey, taskKey, webhookKeyPattern } from '../celery/keys.js'
import { scanTargets } from '../ops/scan.js'
import type { Webhooks } from './service.js'
import type { WebhookLog } from './worker.js'

const STANDING_REFRESH_MS = 2000

export class Listener {
  readonly #w: Webhooks
  readonly #sub: Redis
  readonly #log: WebhookLog
  /** pattern → the key prefix it watches */
  readonly #patterns = new Map<string, string>()
  readonly #fixedPrefixes: string[]
  #timer: NodeJS.Timeout | undefined
  #connectedOnce = false
  #running = false
  /** Work started by messages and re-checks, awaited on stop. */
  readonly #inflight = new Set<Promise<unknown>>()

  constructor (w: Webhooks, subscriber: Redis, prefixes: string[], log: WebhookLog) {
    this.#w = w
    this.#sub = subscriber
    this.#fixedPrefixes = [...new Set(prefixes)]
    this.#log = log
    subscriber.on('pmessageBuffer', (pattern: Buffer, channel: Buffer, message: Buffer) => this.#onMessage(pattern.toString(), channel.toString(), message))
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself; whatever was published meanwhile is found by the re-check.
      if (this.#connectedOnce && this.#running) this.#track(this.recheck())
      this.#connectedOnce = true
    })
  }

  get prefixes (): string[] {
    return [...new Set([...this.#fixedPrefixes, ...this.#w.standing.map(s => s.keyPrefix)])]
  }

  async start (): Promise<void> {
    this.#running = true
    await this.refreshStanding()
    clearInterval(this.#timer)
    this.#timer = setInterval(() => { this.#track(this.refreshStanding()) }, STANDING_REFRESH_MS)
    this.#track(this.recheck())
  }

  async stop (): Promise<void> {
    this.#running = false
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#inflight])
  }

  #track (p: Promise<unknown>): void {
    const tracked = p.catch(err => {
      this.#log.warn({ err: { type: (err as Error).name, message: (err as Error).message } }, 'webhooks: redis error while watching results')
    }).finally(() => this.#inflight.delete(tracked))
    this.#inflight.add(tracked)
  }

  /** Reads the standing webhooks, and PSUBSCRIBEs to any prefix newly watched. */
  async refreshStanding (): Promise<void> {
    this.#w.standing = await this.#w.registrations.listStanding()
    const wanted = new Map(this.prefixes.map(p => [taskChannelPattern(p), p]))
    const added = [...wanted.keys()].filter(p => !this.#patterns.has(p))
    const gone = [...this.#patterns.keys()].filter(p => !wanted.has(p))
    for (const p of added) this.#patterns.set(p, wanted.get(p) as string)
    for (const p of gone) this.#patterns.delete(p)
    if (added.length > 0) await this.#sub.psubscribe(...added)
    if (gone.length > 0) await this.#sub.punsubscribe(...gone)
  }

  #onMessage (pattern: string, channel: string, message: Buffer): void {
    const prefix = this.#patterns.get(pattern)
    if (prefix === undefined) return
    const taskId = taskIdOfKey(prefix, channel)
    if (taskId === null) return
    this.#track(this.#w.resultSeen(prefix, taskId, message))
  }

  /** Every pending per-task registration whose result is already in a wanted state is queued (once). */
  async recheck (): Promise<number> {
    let queued = 0
    for (const prefix of this.#fixedPrefixes) {
      for (const node of scanTargets(this.#w.deps.redis)) {
        let cursor = '0'
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', webhookKeyPattern(prefix), 'COUNT', 200)
          cursor = next
          for (const key of keys) {
            const taskId = taskIdOfWebhookKey(prefix, key)
            if (taskId === null) continue
            const raw = await this.#w.deps.redis.getBuffer(taskKey(prefix, taskId))
            if (raw !== null) queued += await this.#w.resultSeen(prefix, taskId, raw, true)
          }
        } while (cursor !== '0' && this.#running)
      }
    }
    if (queued > 0) this.#log.info({ queued }, 'webhooks: queued deliveries for results written while no gateway listened')
    return queued
  }
}
