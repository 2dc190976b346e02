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
import { ByteArena } from './arena.js'
import { ANSWER_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, TTL_ROUNDING_MS, type Entry, type Found, type FoundRaw, type RawAnswer, type ViewAnswer } from './entry.js'
import { FrequencySketch } from './frequency.js'
import { EvictionOrder } from './order.js'

/**
 * The pages the cached bytes are kept in (arena.ts): 256 KiB, or a 64th of a smaller bound (a copy bigger than
 * a page gets a page of its own size, so a tiny cache counts each copy at its size).
 */
export const pageBytesFor = (maxBytes: number): number => Math.min(256 * 1024, Math.max(1, Math.floor(maxBytes / 64)))
/**
 * Counters per row of the frequency sketch (frequency.ts), and the misses after which its counts halve. A key
 * is cached on its second miss within that window (the sketch is TinyLFU's doorkeeper too: no key is kept for
 * it, a set of recent key strings lived long enough to be promoted and made old-space garbage on every miss).
 */
export const SKETCH_WIDTH = 32_768
/**
 * Once the cache is (nearly: FULL_SLACK) full, the fewest misses lately a key needs to come in: reads spread at
 * random over many more keys than it holds reach it rarely (a steady cache, no churn, no ticket taken for
 * them); a polled key on its third miss.
 */
export const ADMIT_MIN_MISSES = 3
/** "Nearly full": less room left than this part of the bound (a typical entry would not fit, or hardly). */
const FULL_SLACK = 1 / 64
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

export class AnswerCache {
  readonly maxBytes: number
  readonly #entries = new Map<string, Entry>()
  /** The entries in eviction order (order.ts). */
  readonly #order = new EvictionOrder()
  readonly #tokens = new Map<string, Token>()
  /** Misses per key lately: when the cache is full, who may replace whom (TinyLFU; see #admits). */
  readonly #missed = new FrequencySketch(SKETCH_WIDTH)
  readonly #counters: CacheCounters
  readonly #arena: ByteArena
  /** The entries' overhead; their bytes are the arena's. */
  #overhead = 0
  #epoch = 0
  #live = false

  constructor (maxBytes: number, counters: CacheCounters = noCounters) {
    this.maxBytes = maxBytes
    this.#counters = counters
    this.#arena = new ByteArena(pageBytesFor(maxBytes))
  }

  /** What the cache holds: its entries' overhead and the pages their bytes are in. */
  get bytes (): number { return this.#overhead + this.#arena.bytes }
  get size (): number { return this.#entries.size }
  /** Whether reads may fill the cache now (tracking enabled and redirected to a live subscriber). */
  get live (): boolean { return this.#live }

  /**
   * The entry for `key`, when one is current (with `needsRaw`, only one that holds the stored bytes: an entry a
   * view read filled answers a raw read with a miss); counts a hit or a miss.
   */
  get (key: string, now = Date.now(), needsRaw = false): Entry | undefined {
    if (!this.#live) return undefined
    const e = this.#entries.get(key)
    if (e === undefined || (needsRaw && !e.missing && e.raw === undefined)) {
      this.#counters.miss()
      return undefined
    }
    if (!e.missing && e.expiresAt - TTL_ROUNDING_MS <= now) {
      this.#drop(key, e)
      this.#counters.miss()
      return undefined
    }
    // Marked, not moved: eviction gives a used entry a second chance (see #evict), so a hit costs no Map writes.
    e.used = true
    this.#counters.hit()
    return e
  }

  /**
   * Before a read of `key` is sent: null when the cache is off, or when the key may not come in (its first miss
   * lately; once the cache is nearly full, too few misses to be admitted): the read then fills nothing.
   */
  begin (key: string): Ticket | null {
    if (!this.#live) return null
    const before = this.#missed.increment(key)
    if (before === 0) return null
    if (before + 1 < ADMIT_MIN_MISSES && this.bytes > this.maxBytes * (1 - FULL_SLACK)) return null
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

  /**
   * Fills with what a raw read found: the stored bytes (copied into the pages) and their key's remaining PTTL
   * (-1: none); the answers derived from them are kept with keepRaw / keepView.
   */
  fillFound (t: Ticket | null, raw: Buffer, ttlMs: number, startedAt: number): FoundRaw | null {
    const expiresAt = this.#fillable(t, raw.length, ttlMs, startedAt)
    if (t === null || expiresAt === null) return null
    const e: FoundRaw = { missing: false, key: t.key, raw: this.#arena.copy(raw), expiresAt, bytes: ENTRY_OVERHEAD_BYTES, used: false }
    this.#put(e)
    return e
  }

  /**
   * Fills with the view a view read made of the stored bytes, and only that (its body copied into the pages):
   * a raw read of the key is a miss, which fills the entry again with the bytes.
   */
  fillView (t: Ticket | null, v: ViewAnswer, ttlMs: number, startedAt: number): ViewAnswer {
    const expiresAt = this.#fillable(t, v.body.length, ttlMs, startedAt)
    if (t === null || expiresAt === null) return v
    const view = { ...v, body: this.#arena.copy(v.body) }
    this.#put({ missing: false, key: t.key, view, expiresAt, bytes: ENTRY_OVERHEAD_BYTES + ANSWER_OVERHEAD_BYTES, used: false })
    return view
  }

  /** The deadline a fill of `size` bytes would have, or null when it may not fill (the ticket is settled either way). */
  #fillable (t: Ticket | null, size: number, ttlMs: number, startedAt: number): number | null {
    if (t === null || t.settled) return null
    const current = this.#current(t)
    this.release(t)
    // The TTL was measured after startedAt: counting from startedAt puts the deadline early, never late.
    const expiresAt = ttlMs < 0 ? Infinity : startedAt + ttlMs
    const bytes = size + ENTRY_OVERHEAD_BYTES
    if (!current || bytes > this.maxBytes / 4 || expiresAt - TTL_ROUNDING_MS <= startedAt || !this.#admits(t.key, bytes)) return null
    return expiresAt
  }

  /** Fills with "nothing stored" (the PENDING polls). */
  fillMissing (t: Ticket | null): void {
    if (t === null || t.settled) return
    const current = this.#current(t)
    this.release(t)
    const bytes = t.key.length * 2 + ENTRY_OVERHEAD_BYTES
    if (current && this.#admits(t.key, bytes)) this.#put({ missing: true, key: t.key, bytes, used: false })
  }

  /** Keeps the view derived from an entry's bytes (its body copied into the pages), counted towards the bound. */
  keepView (e: Found, v: ViewAnswer): ViewAnswer {
    if (this.#entries.get(e.key) !== e || e.view !== undefined) return v
    e.view = { ...v, body: this.#arena.copy(v.body) }
    return this.#grew(e, e.view)
  }

  /** Keeps the raw answer derived from an entry's bytes, counted towards the bound. */
  keepRaw (e: Found, r: RawAnswer): RawAnswer {
    if (this.#entries.get(e.key) !== e || e.rawAnswer !== undefined) return r
    e.rawAnswer = r
    return this.#grew(e, r)
  }

  #grew<A> (e: Found, answer: A): A {
    e.bytes += ANSWER_OVERHEAD_BYTES
    this.#overhead += ANSWER_OVERHEAD_BYTES
    this.#evict()
    return answer
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
    this.#order.clear()
    this.#tokens.clear()
    this.#missed.reset()
    this.#arena.clear()
    this.#overhead = 0
    this.#epoch++
    this.#counters.flushed()
  }

  /** Tracking is (again) in place: reads begun from now on may fill. */
  goLive (): void { this.flush(); this.#live = true }

  /** Tracking is lost: everything goes, nothing fills until goLive. */
  goDark (): void { this.#live = false; this.flush() }

  /**
   * Whether `key` may come in (TinyLFU's admission): always while there is room; once full, only when it was
   * missed often lately (ADMIT_MIN_MISSES) and more often than the entry that would go to make room, so reads
   * spread over far more keys than the cache holds stop replacing one cold entry with another.
   */
  #admits (key: string, bytes: number): boolean {
    if (this.bytes + bytes <= this.maxBytes || this.#entries.has(key)) return true
    const victim = this.#victim()
    if (victim === undefined) return true
    const missed = this.#missed.frequency(key)
    return missed >= ADMIT_MIN_MISSES && missed > this.#missed.frequency(victim)
  }

  /**
   * The key eviction takes next (CLOCK: used entries on the way get their second chance, as #evict gives it).
   * A second chance moves the entry's bytes to the newest page too, so pages empty in the order the hand
   * passes them instead of being pinned by the few entries on them that are still read.
   */
  #victim (): string | undefined {
    for (let e = this.#order.oldest; e !== undefined; e = this.#order.oldest) {
      if (!e.used) return e.key
      e.used = false
      this.#order.unlink(e)
      this.#order.link(e)
      this.#eachCopy(e, b => this.#arena.move(b))
    }
    return undefined
  }

  #put (e: Entry): void {
    const old = this.#entries.get(e.key)
    if (old !== undefined) this.#drop(e.key, old)
    this.#entries.set(e.key, e)
    this.#order.link(e)
    this.#overhead += e.bytes
    this.#evict()
  }

  #drop (key: string, e: Entry): void {
    this.#entries.delete(key)
    this.#order.unlink(e)
    this.#overhead -= e.bytes
    this.#eachCopy(e, b => {
      this.#arena.free(b)
      return b
    })
  }

  /**
   * Each copy an entry keeps in the pages (the stored bytes, the view's body) replaced by what `f` returns for
   * it: moved (#victim) or freed and kept as it is (#drop).
   */
  #eachCopy (e: Entry, f: (b: Buffer) => Buffer): void {
    if (e.missing) return
    if (e.raw !== undefined) e.raw = f(e.raw)
    if (e.view !== undefined) e.view.body = f(e.view.body)
  }

  /**
   * Least recently used out first, approximately (CLOCK, second chance): from the oldest, an entry read since
   * it was last passed becomes the newest, unmarked, instead of going, so the first one out is the oldest entry
   * nobody read since. (Every entry marked: one pass unmarks them all, the next evicts.)
   */
  #evict (): void {
    while (this.bytes > this.maxBytes) {
      const key = this.#victim()
      const e = key === undefined ? undefined : this.#entries.get(key)
      if (e === undefined) return
      this.#drop(e.key, e)
    }
  }
}
