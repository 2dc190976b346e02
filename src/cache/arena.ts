/**
 * Where the answer cache keeps its bytes: copies carved one after the other out of pages of `pageBytes`
 * (one ArrayBuffer each), instead of one allocation per copy. Ten thousand cached answers held as ten thousand
 * malloc'd buffers (and the shared 8 KB pool chunks their views pinned) made every request's own allocations
 * slower and every major GC longer: measured with the cache full on 100,000 random keys, the cache-on gateway
 * spent more CPU per cold read than the cache-off one (malloc and GC samples up by about half; with the bytes
 * in pages, the same as off).
 *
 * A page's space is never reused: a copy that is freed leaves a hole, and the page goes (its ArrayBuffer left to
 * the GC) when nothing on it is kept any more. Never overwriting is what makes it safe to hand these bytes to
 * a socket: a response still being written keeps its page alive, whatever the cache did since. The cache keeps
 * pages from being pinned by a few survivors by moving an entry's bytes to the newest page when it gets its
 * second chance (answer-cache.ts), so pages empty in the order the eviction hand passes them.
 */

interface Page { readonly size: number, live: number }

export class ByteArena {
  readonly pageBytes: number
  readonly #pages = new Map<ArrayBufferLike, Page>()
  #current: Buffer | undefined
  #used = 0
  #bytes = 0

  constructor (pageBytes: number) {
    this.pageBytes = Math.max(1, Math.floor(pageBytes))
  }

  /** Bytes of the pages held (what the cache counts towards its bound: holes included). */
  get bytes (): number { return this.#bytes }
  get pages (): number { return this.#pages.size }

  /** A copy of `src` in the current page, or in a page of its own when it is bigger than a page. */
  copy (src: Buffer): Buffer {
    const n = src.length
    let page: Buffer
    let at: number
    if (n > this.pageBytes) {
      page = this.#newPage(n)
      at = 0
    } else {
      if (this.#current === undefined || this.#used + n > this.pageBytes) {
        this.#retireCurrent()
        this.#current = this.#newPage(this.pageBytes)
        this.#used = 0
      }
      page = this.#current
      at = this.#used
      // Eight-byte aligned, as malloc would have them.
      this.#used += (n + 7) & ~7
    }
    src.copy(page, at)
    const p = this.#pages.get(page.buffer)
    if (p !== undefined) p.live += n
    return page.subarray(at, at + n)
  }

  /** `b`'s bytes copied again into the current page, and `b` freed. */
  move (b: Buffer): Buffer {
    const moved = this.copy(b)
    this.free(b)
    return moved
  }

  /** A copy made by copy() is no longer kept. */
  free (b: Buffer): void {
    const p = this.#pages.get(b.buffer)
    if (p === undefined) return
    p.live -= b.length
    if (p.live <= 0 && b.buffer !== this.#current?.buffer) this.#drop(b.buffer, p)
  }

  /** Every page goes (responses still being written keep theirs alive). */
  clear (): void {
    this.#pages.clear()
    this.#current = undefined
    this.#used = 0
    this.#bytes = 0
  }

  #newPage (size: number): Buffer {
    const page = Buffer.allocUnsafeSlow(size)
    this.#pages.set(page.buffer, { size, live: 0 })
    this.#bytes += size
    return page
  }

  /** The current page is full: it stays while something on it is kept. */
  #retireCurrent (): void {
    if (this.#current === undefined) return
    const p = this.#pages.get(this.#current.buffer)
    if (p !== undefined && p.live <= 0) this.#drop(this.#current.buffer, p)
    this.#current = undefined
  }

  #drop (ab: ArrayBufferLike, p: Page): void {
    this.#pages.delete(ab)
    this.#bytes -= p.size
  }
}
