/**
 * Finished answers to result reads, kept in this process and dropped the moment Redis says their key changed
 * (server-assisted client-side caching: tracking.ts delivers the invalidations). One entry per Redis key: the
 * stored bytes, the key's expiry deadline, and the answers derived from them (the view, the raw answer), or a
 * negative entry for a key that does not exist. Bounded by bytes, least recently used first out.
 *
 * Correctness rests on three rules (docs/cache.md):
 * - a read may fill the cache only if no invalidation of its key, and no flush, happened since it began
 *   (a ticket taken before the read is sent; an invalidation or a flush voids the tickets);
 * - a fill is refused unless tracking is live (enabled on the data connection, redirected to a connected
 *   subscriber on the same server) and still in the epoch the read began in;
 * - an entry is never served at or past its key's expiry deadline (Redis expires lazily; a GET would
 *   not be sent to make it notice).
 * @see https://redis.io/docs/latest/develop/reference/client-side-caching/
 */

/** What one answer costs besides its bytes (Map slot, object headers, strings of the tags): measured ~ 0.4 KB. */
export const ENTRY_OVERHEAD_BYTES = 400
/**
 * Admission: a key is cached on its second read within a window of this many recently missed keys (a
 * doorkeeper, as in TinyLFU). Polls are repeated reads and get in at once; reads spread over far more keys than
 * the cache holds (100,000 at random) would otherwise fill and evict an entry on every miss, and that churn of
 * retained buffers cost more CPU than the few hits it bought (bench/scenarios/cache.ts).
 */
export const DOORKEEPER_KEYS = 16_384
/** Deadlines come from TTL in whole seconds, which Redis rounds to the nearest: half a second of margin. */
export const TTL_ROUNDING_MS = 500

/** A view answer, ready to send. */
export interface ViewAnswer { body: Buffer, etag: string, state: string, ready: boolean }
/** A raw answer: the stored bytes are sent as they are. */
export interface RawAnswer { etag: string, ready: boolean, contentType: string }

export interface Found {
  readonly missing: false
  readonly key: string
  /** The stored bytes (a copy: never a slice of a socket buffer, which would pin the whole chunk). */
  readonly raw: Buffer
  /** When the key expires (ms since the epoch), Infinity when it never does. */
  readonly expiresAt: number
  view?: ViewAnswer
  rawAnswer?: RawAnswer
  bytes: number
}
export interface Missing { readonly missing: true, readonly key: string, bytes: number }
export type Entry = Found | Missing

/** Taken before a read is sent; the read may fill the cache only while it is still current. */
export interface Ticket { readonly key: string, readonly epoch: number, readonly token: Token, settled: boolean }
interface Token { readers: number }

export interface CacheCounters {
  hit: () => void
  miss: () => void
  invalidated: (keys: number) => void
  flushed: () => void
}

const noCounters: CacheCounters = { hit: () => {}, miss: () => {}, invalidated: () => {}, flushed: () => {} }

/** Remaining whole seconds until `expiresAt` as Redis TTL would say it (-1: never expires). */
export function ttlSecondsAt (expiresAt: number, now: number): number {
  if (expiresAt === Infinity) return -1
  return Math.max(0, Math.round((expiresAt - now) / 1000))
}

export class AnswerCache {
  readonly maxBytes: number
  readonly #entries = new Map<string, Entry>()
  readonly #tokens = new Map<string, Token>()
  /** Keys missed once recently (see DOORKEEPER_KEYS); emptied when full. */
  readonly #seen = new Set<string>()
  readonly #counters: CacheCounters
  #bytes = 0
  #epoch = 0
  #live = false

  constructor (maxBytes: number, counters: CacheCounters = noCounters) {
    this.maxBytes = maxBytes
    this.#counters = counters
  }

  get bytes (): number { return this.#bytes }
  get size (): number { return this.#entries.size }
  /** Whether reads may fill the cache now (tracking enabled and redirected to a live subscriber). */
  get live (): boolean { return this.#live }

  /** The entry for `key`, when one is current; counts a hit or a miss. */
  get (key: string, now = Date.now()): Entry | undefined {
    if (!this.#live) return undefined
    const e = this.#entries.get(key)
    if (e === undefined) {
      this.#counters.miss()
      return undefined
    }
    if (!e.missing && e.expiresAt - TTL_ROUNDING_MS <= now) {
      this.#drop(key, e)
      this.#counters.miss()
      return undefined
    }
    // Least recently used goes first: a Map iterates in insertion order, so a hit moves to the end.
    this.#entries.delete(key)
    this.#entries.set(key, e)
    this.#counters.hit()
    return e
  }

  /**
   * Before a read of `key` is sent: null when the cache is off, or when the key is not admitted yet (its first
   * miss in the doorkeeper's window): the read then fills nothing.
   */
  begin (key: string): Ticket | null {
    if (!this.#live) return null
    if (!this.#seen.has(key)) {
      if (this.#seen.size >= DOORKEEPER_KEYS) this.#seen.clear()
      this.#seen.add(key)
      return null
    }
    let token = this.#tokens.get(key)
    if (token === undefined) {
      token = { readers: 0 }
      this.#tokens.set(key, token)
    }
    token.readers++
    return { key, epoch: this.#epoch, token, settled: false }
  }

  /** The read is over and fills nothing (it failed, or what it read is not cached). */
  release (t: Ticket | null): void {
    if (t === null || t.settled) return
    t.settled = true
    if (--t.token.readers === 0 && this.#tokens.get(t.key) === t.token) this.#tokens.delete(t.key)
  }

  #current (t: Ticket): boolean {
    return this.#live && t.epoch === this.#epoch && this.#tokens.get(t.key) === t.token
  }

  /** Fills with what the read found: the stored bytes (copied here) and their key's remaining TTL. */
  fillFound (t: Ticket | null, raw: Buffer, ttlSeconds: number, startedAt: number): Found | null {
    if (t === null || t.settled) return null
    const current = this.#current(t)
    this.release(t)
    const size = raw.length + ENTRY_OVERHEAD_BYTES
    // The TTL was measured after startedAt: counting from startedAt puts the deadline early, never late.
    const expiresAt = ttlSeconds < 0 ? Infinity : startedAt + ttlSeconds * 1000
    if (!current || size > this.maxBytes / 4 || expiresAt - TTL_ROUNDING_MS <= startedAt) return null
    const copy = Buffer.allocUnsafeSlow(raw.length)
    raw.copy(copy)
    const e: Found = { missing: false, key: t.key, raw: copy, expiresAt, bytes: size }
    this.#put(e)
    return e
  }

  /** Fills with "nothing stored" (the PENDING polls). */
  fillMissing (t: Ticket | null): void {
    if (t === null || t.settled) return
    const current = this.#current(t)
    this.release(t)
    if (current) this.#put({ missing: true, key: t.key, bytes: t.key.length * 2 + ENTRY_OVERHEAD_BYTES })
  }

  /** An answer derived from an entry's bytes (the view, the raw answer) now counts towards the bound. */
  grew (e: Found, bytes: number): void {
    if (this.#entries.get(e.key) !== e) return
    e.bytes += bytes
    this.#bytes += bytes
    this.#evict()
  }

  /** The key changed (an invalidation from Redis, or this process's own write completed). */
  invalidate (key: string): void {
    this.#tokens.delete(key)
    const e = this.#entries.get(key)
    if (e !== undefined) this.#drop(key, e)
  }

  /** Many keys changed (one invalidation message). */
  invalidateMany (keys: string[]): void {
    for (const key of keys) this.invalidate(key)
    this.#counters.invalidated(keys.length)
  }

  /** Everything goes, and no read begun before this may fill: a connection dropped, a failover, a FLUSHALL. */
  flush (): void {
    this.#entries.clear()
    this.#tokens.clear()
    this.#seen.clear()
    this.#bytes = 0
    this.#epoch++
    this.#counters.flushed()
  }

  /** Tracking is (again) in place: reads begun from now on may fill. */
  goLive (): void {
    this.flush()
    this.#live = true
  }

  /** Tracking is lost: everything goes, nothing fills until goLive. */
  goDark (): void {
    this.#live = false
    this.flush()
  }

  #put (e: Entry): void {
    const old = this.#entries.get(e.key)
    if (old !== undefined) this.#drop(e.key, old)
    this.#entries.set(e.key, e)
    this.#bytes += e.bytes
    this.#evict()
  }

  #drop (key: string, e: Entry): void {
    this.#entries.delete(key)
    this.#bytes -= e.bytes
  }

  #evict (): void {
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) return
      this.#drop(key, e)
    }
  }
}
