/**
 * Delivers the queue: reads new entries for this replica's consumer, takes over entries a dead replica held past
 * the visibility timeout, renews the ones it holds, promotes due retries, and for each delivery makes one signed
 * attempt (bounded per target) whose outcome finishes it (2xx delivered, 410 cancelled, last attempt failed) or
 * schedules the next attempt with exponential backoff and jitter.
 */
import type { Logger } from 'pino'
import type { RedisClient } from '../redis/connect.js'
import { ATTR_HTTP_STATUS, ATTR_WEBHOOK_OUTCOME, deliveryAttributes } from '../tracing/attributes.js'
import { withSpan } from '../tracing/span.js'
import { attempt, attemptLabel, failureReason, type AttemptResult } from './deliver.js'
import { Limiter } from './limiter.js'
import type { Delivery, QueuedDelivery } from './queue.js'
import { counterFields } from './registrations.js'
import type { Webhooks } from './service.js'
import { parseSecrets, sign } from './signing.js'
import { checkTarget, displayUrl, WebhookUrlError } from './ssrf.js'

export type FinalOutcome = 'delivered' | 'failed' | 'cancelled' | 'dropped'

/** What the worker reports for metrics (plugins wire it to prom-client). */
export interface WebhookObserver {
  attempted: (outcome: string, seconds: number) => void
  finished: (outcome: FinalOutcome | 'retried') => void
  depth: (ready: number, retrying: number, oldestAgeSeconds: number) => void
}

export type WebhookLog = Pick<Logger, 'warn' | 'info' | 'debug'>

/** Exponential backoff with equal jitter: half the capped delay, plus up to as much again at random. */
export function backoffMs (attemptsMade: number, baseMs: number, maxMs: number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1))
  return Math.round(capped / 2 + Math.random() * capped / 2)
}

const USER_AGENT = 'result-gateway-webhooks'
const DELIVER_SPAN = 'result_gateway.webhook.deliver'

/** One attempt as made: its result, the SSRF guard's refusal (null when it let the URL through), its label. */
interface Sent { result: AttemptResult, refusal: string | null, label: string }
const DEPTH_EVERY_MS = 5000

export class Worker {
  readonly #w: Webhooks
  readonly #blocking: RedisClient
  readonly #observer: WebhookObserver
  readonly #log: WebhookLog
  readonly #keys: Buffer[]
  readonly #limiter: Limiter
  readonly #held = new Set<string>()
  #running = false
  #roomWaiters: Array<() => void> = []
  #timers: NodeJS.Timeout[] = []
  #reading: Promise<void> | undefined
  #lastError = 0

  constructor (w: Webhooks, blocking: RedisClient, observer: WebhookObserver, log: WebhookLog) {
    this.#w = w
    this.#blocking = blocking
    this.#observer = observer
    this.#log = log
    this.#keys = parseSecrets(w.deps.settings.secret ?? '')
    this.#limiter = new Limiter(w.deps.settings.concurrency, w.deps.settings.concurrencyPerTarget)
  }

  /** Deliveries this replica holds (read, not finished). */
  get held (): number {
    return this.#held.size
  }

  async start (): Promise<void> {
    this.#running = true
    await this.#w.queue.ensureGroup()
    const s = this.#w.deps.settings
    const every = (ms: number, fn: () => Promise<unknown>): void => {
      this.#timers.push(setInterval(() => { fn().catch(err => this.#trouble(err)) }, ms))
    }
    every(Math.max(20, Math.min(1000, Math.floor(s.retryBaseMs / 4))), () => this.#w.queue.promote(Date.now(), 100))
    every(Math.max(50, Math.floor(s.visibilityTimeoutMs / 3)), () => this.#w.queue.renew([...this.#held]))
    every(Math.max(50, Math.floor(s.visibilityTimeoutMs / 2)), () => this.#takeOver())
    every(DEPTH_EVERY_MS, () => this.refreshDepth())
    this.#reading = this.#readLoop()
  }

  async stop (): Promise<void> {
    this.#running = false
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    for (const w of this.#roomWaiters.splice(0)) w()
    // Unblocks XREADGROUP; what this replica still holds is taken over by the others after the visibility timeout.
    this.#blocking.disconnect()
    await this.#reading
  }

  async refreshDepth (): Promise<void> {
    const d = await this.#w.queue.depth(Date.now())
    this.#observer.depth(d.ready, d.retrying, d.oldestAgeSeconds)
  }

  #trouble (err: unknown): void {
    // Redis trouble repeats itself every tick: one line per 10 s.
    if (Date.now() - this.#lastError < 10_000) return
    this.#lastError = Date.now()
    this.#log.warn({ err: { type: (err as Error).name, message: (err as Error).message } }, 'webhook queue: redis error')
  }

  async #room (): Promise<void> {
    while (this.#running && this.#held.size >= this.#w.deps.settings.concurrency) {
      await new Promise<void>(resolve => this.#roomWaiters.push(resolve))
    }
  }

  async #readLoop (): Promise<void> {
    const blockMs = Math.max(10, Math.min(1000, Math.floor(this.#w.deps.settings.visibilityTimeoutMs / 4)))
    while (this.#running) {
      await this.#room()
      if (!this.#running) return
      try {
        const count = this.#w.deps.settings.concurrency - this.#held.size
        for (const q of await this.#w.queue.read(this.#blocking, count, blockMs)) this.#start(q)
      } catch (err) {
        if (!this.#running) return
        this.#trouble(err)
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    }
  }

  async #takeOver (): Promise<void> {
    const room = this.#w.deps.settings.concurrency - this.#held.size
    if (room <= 0) return
    const taken = await this.#w.queue.takeOver(this.#w.deps.settings.visibilityTimeoutMs, Math.min(room, 100))
    for (const q of taken) if (!this.#held.has(q.id)) this.#start(q)
  }

  #start (q: QueuedDelivery): void {
    this.#held.add(q.id)
    this.#handle(q).catch(err => this.#trouble(err)).finally(() => {
      this.#held.delete(q.id)
      this.#roomWaiters.shift()?.()
    })
  }

  /** The URL a delivery goes to now, or null when its subscription is gone, replaced or already settled. */
  async #urlOf (d: Delivery): Promise<string | null> {
    if (d.kind === 'standing') return (await this.#w.registrations.getStanding(d.sub))?.url ?? null
    const reg = await this.#w.registrations.getTask(d.prefix, d.task)
    return reg !== null && reg.id === d.sub && (reg.status === 'pending' || reg.status === 'delivering') ? reg.url : null
  }

  async #handle (q: QueuedDelivery): Promise<void> {
    const d = q.delivery
    const url = await this.#urlOf(d)
    if (url === null) {
      await this.#w.queue.finish(q.id, '', '')
      this.#observer.finished('dropped')
      return
    }
    let target: string
    try {
      const u = new URL(url)
      target = `${u.hostname}:${u.port}`
    } catch {
      target = 'invalid'
    }
    await this.#limiter.run(target, () => this.#attempt(q, url))
  }

  /**
   * One attempt on the wire, in a `result_gateway.webhook.deliver` client span (a no-op when tracing is off; the
   * HTTP instrumentation's POST span nests under it and sends its traceparent): the SSRF check of this moment,
   * then the signed POST. A refusal is a failed attempt (reason `refused`), not an error.
   */
  #send (d: Delivery, url: string, made: number): Promise<Sent> {
    return withSpan(DELIVER_SPAN, deliveryAttributes(d.kind, d.task, made, d.wid, url), async span => {
      let sent: Sent
      try {
        const checked = await checkTarget(url, this.#w.deps.settings.allowedHosts, this.#w.deps.resolve)
        const ts = Math.floor(Date.now() / 1000)
        const result = await attempt(checked, {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'webhook-id': d.wid,
          'webhook-timestamp': String(ts),
          'webhook-signature': sign(this.#keys, d.wid, ts, d.body)
        }, d.body, this.#w.deps.settings.timeoutMs)
        sent = { result, refusal: null, label: attemptLabel(result) }
      } catch (err) {
        if (!(err instanceof WebhookUrlError)) throw err
        sent = { result: { kind: 'error', code: 'refused' }, refusal: err.message, label: 'refused' }
      }
      span.setAttributes(sent.result.kind === 'response'
        ? { [ATTR_WEBHOOK_OUTCOME]: sent.label, [ATTR_HTTP_STATUS]: sent.result.status }
        : { [ATTR_WEBHOOK_OUTCOME]: sent.label })
      const reason = failureReason(sent.result)
      if (reason !== null) span.fail(reason)
      return sent
    }, 'client')
  }

  async #attempt (q: QueuedDelivery, url: string): Promise<void> {
    const d = q.delivery
    const made = Number(d.attempt) + 1
    const started = performance.now()
    const { result, refusal, label } = await this.#send(d, url, made)
    this.#observer.attempted(label, (performance.now() - started) / 1000)
    const status = result.kind === 'response' ? result.status : null
    const outcome = status !== null && status >= 200 && status < 300
      ? 'delivered'
      : status === 410 ? 'cancelled' : made >= this.#w.deps.settings.maxAttempts ? 'failed' : 'retried'
    if (outcome !== 'delivered') {
      this.#log.debug({ webhookId: d.wid, url: displayUrl(url), attempt: made, outcome: label, status }, 'webhook attempt failed')
    }
    await this.#record(d, made, outcome, status, refusal ?? (label === 'success' ? '' : label))
    if (outcome === 'retried') {
      const due = Date.now() + backoffMs(made, this.#w.deps.settings.retryBaseMs, this.#w.deps.settings.retryMaxMs)
      await this.#w.queue.retryAt(q.id, { ...d, attempt: String(made) }, due)
    } else {
      const [delivered, failed, pending, cancelled] = d.kind === 'standing' ? counterFields(d.sub) : ['', '', '', '']
      const incr = outcome === 'delivered' ? delivered : outcome === 'failed' ? failed : cancelled
      if (outcome === 'cancelled' && d.kind === 'standing') {
        await this.#w.deleteStanding(d.sub)
        await this.#w.queue.finish(q.id, '', '')
      } else {
        await this.#w.queue.finish(q.id, incr, pending)
      }
      if (outcome === 'failed') this.#log.warn({ webhookId: d.wid, url: displayUrl(url), attempts: made }, 'webhook delivery failed after its last attempt')
    }
    this.#observer.finished(outcome)
  }

  async #record (d: Delivery, made: number, outcome: FinalOutcome | 'retried', status: number | null, lastError: string): Promise<void> {
    if (d.kind !== 'task') return
    const now = new Date().toISOString()
    const status2 = outcome === 'retried' ? 'delivering' : outcome
    await this.#w.registrations.updateTask(d.prefix, d.task, d.sub, {
      status: status2,
      attempts: made,
      webhookId: d.wid,
      lastStatusCode: status ?? '',
      lastAttemptAt: now,
      lastError,
      ...(outcome === 'delivered' ? { deliveredAt: now } : {})
    })
  }
}
