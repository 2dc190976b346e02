/**
 * Webhooks, the domain side: registering per-task and standing webhooks (URLs through the SSRF guard), and
 * turning a result that reached a wanted state into one queued delivery per subscription. The listener
 * (listener.ts) calls `resultSeen` for every published result; the worker (worker.ts) delivers the queue.
 */
import type { RedisClient } from '../redis/connect.js'
import { taskKey } from '../celery/keys.js'
import { READY_STATES } from '../celery/meta.js'
import { Queue, type Delivery } from './queue.js'
import { Registrations, type StandingWebhook, type TaskWebhook } from './registrations.js'
import type { WebhookSettings } from './settings.js'
import { webhookId } from './signing.js'
import { checkTarget, type Resolver } from './ssrf.js'

/** Stored bytes → the result view exactly as GET /v1/results/{taskId} answers it (JSON text), and its state. */
export type Viewer = (prefix: string, taskId: string, raw: Buffer) => { state: string, body: string } | null

export interface WebhookDeps {
  redis: RedisClient
  settings: WebhookSettings
  /** the gateway's own prefix: where the queue and the standing webhooks live */
  gatewayPrefix: string
  /** RG_RESULT_TTL_SECONDS (0 = none) */
  resultTtlSeconds: number
  view: Viewer
  consumer: string
  resolve?: Resolver
}

export const DEFAULT_STATES = [...READY_STATES]

/** How long an enqueue claim is kept when results do not expire: a re-published result after it is sent again. */
const CLAIM_TTL_NO_EXPIRY = 7 * 86400

export class Webhooks {
  readonly deps: WebhookDeps
  readonly registrations: Registrations
  readonly queue: Queue
  /** Standing webhooks as last read from Redis (listener.ts refreshes it) */
  standing: StandingWebhook[] = []

  constructor (deps: WebhookDeps) {
    this.deps = deps
    this.registrations = new Registrations(deps.redis, deps.gatewayPrefix)
    this.queue = new Queue(deps.redis, deps.gatewayPrefix, deps.consumer)
  }

  get enabled (): boolean {
    return this.deps.settings.secret !== null
  }

  /** Throws WebhookUrlError (a 422) when the guard refuses the URL. */
  async checkUrl (url: string): Promise<void> {
    await checkTarget(url, this.deps.settings.allowedHosts, this.deps.resolve)
  }

  /** Registers (replaces) a task's webhook, then delivers at once if the task is already in a wanted state. */
  async registerTask (prefix: string, taskId: string, url: string, states: string[]): Promise<TaskWebhook> {
    await this.checkUrl(url)
    const resultTtl = await this.registrations.ttlOf(taskKey(prefix, taskId))
    const ttl = resultTtl ?? this.deps.resultTtlSeconds
    const reg = await this.registrations.putTask(prefix, taskId, url, states, ttl)
    const raw = await this.deps.redis.getBuffer(taskKey(prefix, taskId))
    if (raw !== null) {
      const view = this.#safeView(prefix, taskId, raw)
      if (view !== null && states.includes(view.state)) await this.#enqueueTask(prefix, taskId, reg, view)
    }
    return (await this.registrations.getTask(prefix, taskId)) ?? reg
  }

  async putStanding (name: string, url: string, keyPrefix: string, states: string[]): Promise<StandingWebhook> {
    await this.checkUrl(url)
    const stored = await this.registrations.putStanding({ name, url, keyPrefix, states })
    this.standing = [...this.standing.filter(s => s.name !== name), stored]
    return stored
  }

  async deleteStanding (name: string): Promise<boolean> {
    this.standing = this.standing.filter(s => s.name !== name)
    return this.registrations.deleteStanding(name)
  }

  /**
   * A result was published (or found by a re-check) under `prefix`: queue one delivery per subscription that
   * wants its state. `onlyTask` skips the standing webhooks (a re-check of registrations after a restart).
   */
  async resultSeen (prefix: string, taskId: string, raw: Buffer, onlyTask = false): Promise<number> {
    const view = this.#safeView(prefix, taskId, raw)
    if (view === null) return 0
    let queued = 0
    const reg = await this.registrations.getTask(prefix, taskId)
    if (reg !== null && reg.status === 'pending' && reg.states.includes(view.state)) {
      if (await this.#enqueueTask(prefix, taskId, reg, view)) queued++
    }
    if (onlyTask) return queued
    for (const s of this.standing) {
      if (s.keyPrefix !== prefix || !s.states.includes(view.state)) continue
      if (await this.#enqueue(this.#delivery('standing', s.name, prefix, taskId, view), `${s.name}:pending`)) queued++
    }
    return queued
  }

  #safeView (prefix: string, taskId: string, raw: Buffer): { state: string, body: string } | null {
    try {
      return this.deps.view(prefix, taskId, raw)
    } catch {
      // Undecodable (pickle, garbage): there is no view to send; GET /v1/results answers 422 for it too.
      return null
    }
  }

  #delivery (kind: 'task' | 'standing', sub: string, prefix: string, taskId: string, view: { state: string, body: string }): Delivery {
    // The timestamp is when the gateway saw the state; the body is then the same bytes on every retry.
    const body = `{"type":"result.ready","timestamp":${JSON.stringify(new Date().toISOString())},"data":${view.body}}`
    const subscription = kind === 'task' ? `task:${sub}` : `standing:${sub}`
    const wid = webhookId(subscription, prefix, taskId, view.state)
    return { kind, sub, prefix, task: taskId, state: view.state, wid, body, attempt: '0', first: String(Date.now()) }
  }

  async #enqueueTask (prefix: string, taskId: string, reg: TaskWebhook, view: { state: string, body: string }): Promise<boolean> {
    const d = this.#delivery('task', reg.id, prefix, taskId, view)
    const queued = await this.#enqueue(d, '')
    if (queued) await this.registrations.updateTask(prefix, taskId, reg.id, { status: 'delivering', webhookId: d.wid }, 'pending')
    return queued
  }

  #enqueue (d: Delivery, counter: string): Promise<boolean> {
    const ttl = this.deps.resultTtlSeconds > 0 ? Math.max(this.deps.resultTtlSeconds, 3600) : CLAIM_TTL_NO_EXPIRY
    return this.queue.enqueue(d, ttl, counter)
  }
}
