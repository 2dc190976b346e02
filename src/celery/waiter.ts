/**
 * Waits for results over one shared pub/sub connection: subscriptions are reference-counted per channel,
 * each waiter subscribes BEFORE re-reading the key (so a PUBLISH in between is never missed), wakes on the
 * channel's message, and is re-read by a safety-net sweep (for writers that SET without PUBLISH). Celery
 * publishes on the key name.
 * @see celery/backends/redis.py ResultConsumer
 */
import type { Redis } from 'ioredis'
import { withDeadline } from '../redis/deadlines.js'

export type WaitOutcome = 'ready' | 'timeout' | 'cancelled' | 'interrupted'

export interface WaitRequest<T> {
  channel: string
  /** Reads the current value (a GET). */
  read: () => Promise<T>
  /** Turns a published payload into a value; undefined if it cannot be decoded (a re-read follows). */
  fromMessage: (payload: Buffer) => T | undefined
  isReady: (value: T) => boolean
  timeoutMs: number
  signal?: AbortSignal
}

interface Listener {
  onMessage: (payload: Buffer) => void
  recheck: () => void
  interrupt: () => void
}

export class Waiter {
  readonly #subscriber: Redis
  readonly #pollIntervalMs: number
  readonly #listeners = new Map<string, Set<Listener>>()
  #waiters = 0
  readonly #subscribing = new Map<string, Promise<unknown>>()
  readonly #toSubscribe = new Set<string>()
  readonly #toUnsubscribe = new Set<string>()
  #flushing: Promise<void> | undefined
  #reconnected = false
  #ready: Promise<void> | undefined
  readonly #readyTimeoutMs: number
  /** Safety-net sweep: waiters still to re-read in this round, and the timer that works through them. */
  #sweepQueue: Array<[string, Listener]> = []
  #sweepTimer: NodeJS.Timeout | undefined

  constructor (subscriber: Redis, opts: { pollIntervalMs: number, readyTimeoutMs: number }) {
    this.#subscriber = subscriber
    this.#pollIntervalMs = opts.pollIntervalMs
    this.#readyTimeoutMs = opts.readyTimeoutMs
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const set = this.#listeners.get(channel.toString())
      if (set !== undefined) for (const l of set) l.onMessage(message)
    })
    // ioredis resubscribes after a reconnect; anything published meanwhile was lost, so re-read everything.
    subscriber.on('ready', () => {
      if (this.#reconnected) for (const set of this.#listeners.values()) for (const l of set) l.recheck()
      this.#reconnected = true
    })
  }

  /** Number of waiters and of channels subscribed (for metrics and leak tests). */
  get stats (): { waiters: number, channels: number } {
    return { waiters: this.#waiters, channels: this.#listeners.size }
  }

  /** Ends every wait now with outcome 'interrupted' (graceful shutdown). */
  interruptAll (): void {
    for (const set of [...this.#listeners.values()]) for (const l of [...set]) l.interrupt()
  }

  /**
   * Resolves with the latest value and how the wait ended; `wokeAt` (process.hrtime.bigint) is when the
   * PUBLISH that made it ready arrived, null when the answer came from a read or a timeout.
   */
  async wait<T> (req: WaitRequest<T>): Promise<{ value: T | undefined, outcome: WaitOutcome, wokeAt: bigint | null }> {
    let latest: T | undefined
    let wokeAt: bigint | null = null
    let finish!: (outcome: WaitOutcome) => void
    const done = new Promise<WaitOutcome>(resolve => { finish = resolve })
    let finished = false
    const settle = (outcome: WaitOutcome, value?: T): void => {
      if (finished) return
      if (value !== undefined) latest = value
      finished = true
      finish(outcome)
    }
    const consider = (value: T): void => {
      latest = value
      if (req.isReady(value)) settle('ready', value)
    }
    const reread = (): void => {
      req.read().then(consider, () => { /* Redis trouble: keep waiting; the timeout still answers */ })
    }
    const listener: Listener = {
      onMessage: (payload) => {
        const arrived = process.hrtime.bigint()
        const v = req.fromMessage(payload)
        if (v === undefined) return reread()
        if (!finished && req.isReady(v)) wokeAt = arrived
        consider(v)
      },
      recheck: reread,
      interrupt: () => settle('interrupted')
    }
    const onAbort = (): void => settle('cancelled')
    if (req.signal?.aborted === true) return { value: undefined, outcome: 'cancelled', wokeAt: null }
    req.signal?.addEventListener('abort', onAbort, { once: true })

    const started = Date.now()
    let timeout: NodeJS.Timeout | undefined
    this.#add(req.channel, listener)
    try {
      // The first read always happens, after SUBSCRIBE: a timeout of 0 is "read once", never a blind answer.
      // Both under one deadline: the subscriber has no command timeout of its own (a burst of waiters may queue
      // SUBSCRIBEs), so against a frozen Redis an unanswered SUBSCRIBE held the request until Redis woke up.
      const first = await withDeadline(this.#subscribe(req.channel).then(() => req.read()), this.#readyTimeoutMs)
      if (latest === undefined) consider(first)
      timeout = setTimeout(() => settle('timeout'), Math.max(0, req.timeoutMs - (Date.now() - started)))
      const outcome = await done
      return { value: latest, outcome, wokeAt }
    } finally {
      settle('cancelled')
      clearTimeout(timeout)
      req.signal?.removeEventListener('abort', onAbort)
      this.#remove(req.channel, listener)
    }
  }

  #add (channel: string, l: Listener): void {
    let set = this.#listeners.get(channel)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(channel, set)
    }
    set.add(l)
    this.#waiters++
    this.#sweepTimer ??= this.#startSweep()
  }

  /**
   * Re-reads every waited key about once per poll interval, spread evenly over it in small slices (one every
   * 100 ms at most): 10,000 waiters are 2,000 reads a second as a steady trickle, never 10,000 at once in
   * front of a wake-up. Runs only while someone waits.
   */
  #startSweep (): NodeJS.Timeout {
    const tickMs = Math.min(100, Math.floor(this.#pollIntervalMs / 2))
    let roundStarted = Date.now()
    let perTick = 0
    const timer = setInterval(() => {
      if (this.#waiters === 0) {
        clearInterval(timer)
        this.#sweepTimer = undefined
        this.#sweepQueue = []
        return
      }
      if (this.#sweepQueue.length === 0 && Date.now() - roundStarted >= this.#pollIntervalMs) {
        roundStarted = Date.now()
        for (const [channel, set] of this.#listeners) for (const l of set) this.#sweepQueue.push([channel, l])
        this.#sweepQueue.reverse() // oldest waiters first
        perTick = Math.ceil(this.#sweepQueue.length * tickMs / this.#pollIntervalMs)
      }
      for (let n = 0; n < perTick && this.#sweepQueue.length > 0; n++) {
        const [channel, l] = this.#sweepQueue.pop() ?? []
        if (channel !== undefined && l !== undefined && this.#listeners.get(channel)?.has(l) === true) l.recheck()
      }
    }, tickMs)
    timer.unref()
    return timer
  }

  /**
   * Resolves once the subscriber is ready. ioredis lets SUBSCRIBE through while a connection is still in its
   * handshake, which then breaks the handshake's INFO ("only (P|S)SUBSCRIBE ... allowed"); so never subscribe
   * before 'ready'. One shared promise, bounded by the command timeout so a dead Redis is a fast 503.
   */
  #whenReady (): Promise<void> {
    const sub = this.#subscriber
    if (sub.status === 'ready') return Promise.resolve()
    if (sub.status === 'end') return Promise.reject(new Error('Connection is closed.'))
    if (sub.status === 'wait') sub.connect().catch(() => { /* retried by ioredis; the timeout below answers */ })
    this.#ready ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.off('ready', onReady)
        reject(new Error('Command timed out (pub/sub connection not ready)'))
      }, this.#readyTimeoutMs)
      const onReady = (): void => { clearTimeout(timer); resolve() }
      sub.once('ready', onReady)
    }).finally(() => { this.#ready = undefined })
    return this.#ready
  }

  #subscribe (channel: string): Promise<unknown> {
    let p = this.#subscribing.get(channel)
    if (p === undefined) {
      this.#toUnsubscribe.delete(channel)
      this.#toSubscribe.add(channel)
      p = this.#flush()
      this.#subscribing.set(channel, p)
      // A failed SUBSCRIBE must not stay cached for the next waiter.
      p.catch(() => { if (this.#subscribing.get(channel) === p) this.#subscribing.delete(channel) })
    }
    return p
  }

  /**
   * Sends the (un)subscriptions gathered during this turn of the event loop as one SUBSCRIBE and one
   * UNSUBSCRIBE: 10,000 waiters arriving together cost a few commands, not 10,000. The two sets are kept
   * disjoint, so their order does not matter; across turns, one connection keeps commands in order.
   */
  #flush (): Promise<void> {
    this.#flushing ??= new Promise<void>(resolve => setImmediate(resolve)).then(async () => {
      this.#flushing = undefined
      const subscribe = [...this.#toSubscribe]
      const unsubscribe = [...this.#toUnsubscribe]
      this.#toSubscribe.clear()
      this.#toUnsubscribe.clear()
      if (unsubscribe.length > 0) this.#subscriber.unsubscribe(...unsubscribe).catch(() => { /* connection gone: nothing to undo */ })
      if (subscribe.length > 0) {
        await this.#whenReady()
        await this.#subscriber.subscribe(...subscribe)
      }
    })
    return this.#flushing
  }

  #remove (channel: string, l: Listener): void {
    const set = this.#listeners.get(channel)
    if (set === undefined || !set.delete(l)) return
    this.#waiters--
    if (set.size > 0) return
    this.#listeners.delete(channel)
    this.#subscribing.delete(channel)
    this.#toSubscribe.delete(channel)
    this.#toUnsubscribe.add(channel)
    this.#flush().catch(() => { /* a failed SUBSCRIBE is its waiters' error, not this one's */ })
  }
}
