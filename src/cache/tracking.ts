/**
 * Keeps Redis CLIENT TRACKING (RESP2, BCAST on the result key prefixes) in place on the data connection,
 * redirected to a connection of its own subscribed to __redis__:invalidate, and feeds the answer cache:
 * invalidated keys, a flush on a null (flush-all) message, and "dark" (flushed, nothing fills) whenever either
 * connection is down, before tracking is (re-)enabled after a reconnect or a failover, and when the two
 * connections are not on the same server.
 * @see https://redis.io/docs/latest/commands/client-tracking/
 */
import type { Redis } from 'ioredis'
import type { AnswerCache } from './answer-cache.js'

export const INVALIDATE_CHANNEL = '__redis__:invalidate'
/** How often the tracking connection must answer a PING: a silent half-open socket would lose invalidations. */
export const HEALTH_INTERVAL_MS = 1000

export interface TrackingLog {
  warn: (obj: object, msg: string) => void
}

/** BCAST prefixes may not overlap: keep only those no other one already covers. */
export function trackedPrefixes (prefixes: Iterable<string>): string[] {
  const all = [...new Set(prefixes)].sort((a, b) => a.length - b.length)
  return all.filter((p, i) => !all.slice(0, i).some(q => p.startsWith(q)))
}

function runId (info: string): string {
  return /run_id:(\w+)/.exec(info)?.[1] ?? ''
}

/** The keys of one invalidation message: RESP2 delivers an array of keys, or null for "everything". */
export function invalidatedKeys (message: unknown): string[] | null {
  if (message === null || message === undefined) return null
  if (Array.isArray(message)) return message.map(k => String(k))
  return [String(message)]
}

export class Tracking {
  readonly #data: Redis
  readonly #sub: Redis
  readonly #cache: AnswerCache
  readonly #prefixes: string[]
  readonly #log: TrackingLog
  readonly #timeoutMs: number
  /** Bumped by anything that voids a handshake in progress (a connection lost, a newer handshake). */
  #attempt = 0
  /** Bumped whenever the tracking connection connects or drops: voids a SUBSCRIBE step in progress. */
  #subEpoch = 0
  /** The tracking connection's CLIENT ID and server run_id once it is subscribed on its current connection. */
  #target: { id: number, run: string } | null = null
  #health: NodeJS.Timeout | undefined
  #warned = false

  constructor (data: Redis, sub: Redis, cache: AnswerCache, opts: { prefixes: string[], log: TrackingLog, timeoutMs: number }) {
    this.#data = data
    this.#sub = sub
    this.#cache = cache
    this.#prefixes = trackedPrefixes(opts.prefixes)
    this.#log = opts.log
    this.#timeoutMs = opts.timeoutMs
  }

  /** Wires the connections' events; tracking starts once the data connection is first ready. */
  start (): void {
    const down = (): void => this.#down()
    for (const ev of ['close', 'reconnecting', 'end']) {
      this.#data.on(ev, down)
      this.#sub.on(ev, () => { this.#subEpoch++; this.#target = null; down() })
    }
    this.#data.on('ready', () => { this.#handshake() })
    this.#sub.on('ready', () => { this.#subscribe() })
    this.#sub.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return
      const keys = invalidatedKeys(message)
      if (keys === null) this.#cache.flush()
      else this.#cache.invalidateMany(keys)
    })
    if (this.#data.status === 'ready') this.#handshake()
    this.#health = setInterval(() => { this.#check() }, HEALTH_INTERVAL_MS)
    this.#health.unref()
  }

  stop (): void {
    clearInterval(this.#health)
    this.#attempt++
    this.#cache.goDark()
    this.#sub.disconnect()
  }

  #down (): void {
    this.#attempt++
    if (this.#cache.live) this.#cache.goDark()
  }

  #fail (err: unknown, step: string): void {
    // Once per process: a Redis without CLIENT TRACKING (< 6) or an ACL without it keeps the cache off.
    if (this.#warned) return
    this.#warned = true
    this.#log.warn({ step, err: { message: (err as Error).message.split('\n')[0] } }, 'answer cache off: tracking could not be enabled')
  }

  /** On the tracking connection's (re)connect: its id and server, then SUBSCRIBE (nothing else is allowed after). */
  #subscribe (): void {
    const mine = ++this.#subEpoch
    this.#target = null
    const sub = this.#sub
    Promise.all([sub.client('ID'), sub.info('server')]).then(async ([id, info]) => {
      await sub.subscribe(INVALIDATE_CHANNEL)
      if (mine !== this.#subEpoch) return
      this.#target = { id: Number(id), run: runId(info) }
      this.#handshake()
    }).catch((err: unknown) => { this.#fail(err, 'subscribe') })
  }

  /** Enables tracking on the data connection, redirected to the tracking connection, then goes live. */
  #handshake (): void {
    const attempt = ++this.#attempt
    const data = this.#data
    if (data.status !== 'ready') return
    const target = this.#target
    if (target === null) {
      if (this.#sub.status === 'wait') this.#sub.connect().catch(() => { /* retried by ioredis */ })
      return
    }
    data.info('server').then(async (info) => {
      if (runId(info) !== target.run) {
        // The two connections reached different servers (a failover half followed): the redirect id would
        // name some other client there. Reconnect the tracking connection; its 'ready' starts over.
        if (attempt === this.#attempt) this.#sub.disconnect(true)
        return
      }
      // Tracking options cannot change while it is on: off first (a no-op on a fresh connection).
      await data.client('TRACKING', 'OFF')
      await data.client('TRACKING', 'ON', 'REDIRECT', String(target.id), 'BCAST', ...this.#prefixes.flatMap(p => ['PREFIX', p]))
      if (attempt === this.#attempt && data.status === 'ready' && this.#sub.status === 'ready') this.#cache.goLive()
    }).catch((err: unknown) => { this.#fail(err, 'tracking') })
  }

  /** The tracking connection must answer a PING within the command timeout, or it is reconnected. */
  #check (): void {
    if (!this.#cache.live || this.#sub.status !== 'ready') return
    const attempt = this.#attempt
    const timer = setTimeout(() => {
      if (attempt === this.#attempt) this.#sub.disconnect(true)
    }, this.#timeoutMs)
    this.#sub.ping().then(() => clearTimeout(timer), () => clearTimeout(timer))
  }
}
