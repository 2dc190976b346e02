/**
 * How often each key was missed lately, approximately: a count-min sketch (four rows of 4-bit-wide counters
 * kept in bytes, saturating at 15), every counter halved after `width` increments so that old reads fade:
 * "lately" is the last few tens of thousands of misses, so a key read at random among 100,000 others is rarely
 * counted more than once or twice, while a key polled again and again soon is. TinyLFU's frequency filter: when the answer cache is full, a key is only admitted if it was
 * missed more often lately than the entry it would evict (answer-cache.ts), so reads spread evenly over far
 * more keys than the cache holds stop replacing one cold entry with another on every read.
 * @see https://arxiv.org/abs/1512.00727 (TinyLFU: A Highly Efficient Cache Admission Policy)
 */

const ROWS = 4
const MAX_COUNT = 15

/** FNV-1a over the UTF-16 code units of a key, 32 bits. */
function fnv1a (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export class FrequencySketch {
  readonly #counts: Uint8Array
  readonly #mask: number
  readonly #sample: number
  #added = 0

  /** `width`: counters per row, a power of two (well above the number of entries the cache holds). */
  constructor (width: number) {
    if (width < 16 || (width & (width - 1)) !== 0) throw new Error('FrequencySketch: width must be a power of two ≥ 16')
    this.#counts = new Uint8Array(width * ROWS)
    this.#mask = width - 1
    this.#sample = width
  }

  /** One more read of `key`; returns its count before this one (0: not read lately, TinyLFU's doorkeeper). */
  increment (key: string): number {
    const h = fnv1a(key)
    // Double hashing from one 32-bit hash: row r's counter is h + r * step (no array made per call: this runs
    // on every miss).
    const step = ((h >>> 16) | (h << 16)) | 1
    const width = this.#mask + 1
    let before = MAX_COUNT
    for (let row = 0; row < ROWS; row++) {
      const slot = row * width + ((h + row * step) & this.#mask)
      const c = this.#counts[slot] ?? 0
      if (c < before) before = c
      if (c < MAX_COUNT) this.#counts[slot] = c + 1
    }
    if (++this.#added >= this.#sample) this.#age()
    return before
  }

  /** Reads of `key` lately (an estimate, never below the truth until aging halves it). */
  frequency (key: string): number {
    const h = fnv1a(key)
    const step = ((h >>> 16) | (h << 16)) | 1
    const width = this.#mask + 1
    let min = MAX_COUNT
    for (let row = 0; row < ROWS; row++) min = Math.min(min, this.#counts[row * width + ((h + row * step) & this.#mask)] ?? 0)
    return min
  }

  /** Forgets every read (a flush: what was read before it says nothing about the cache's new contents). */
  reset (): void {
    this.#counts.fill(0)
    this.#added = 0
  }

  /** Every counter halved: reads from long ago count for less. */
  #age (): void {
    for (let i = 0; i < this.#counts.length; i++) this.#counts[i] = (this.#counts[i] ?? 0) >>> 1
    this.#added = Math.floor(this.#added / 2)
  }
}
