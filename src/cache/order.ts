/**
 * The answer cache's entries in eviction order (answer-cache.ts): a list through the entries themselves, oldest
 * to newest. Not a Map's insertion order: a Map whose oldest entries are deleted and re-added over and over
 * iterates over the holes they leave until it rehashes, and eviction started every search at the oldest
 * (measured as 20 % more CPU per cold fetch).
 */
import type { Entry } from './entry.js'

export class EvictionOrder {
  #newest: Entry | undefined
  #oldest: Entry | undefined

  get oldest (): Entry | undefined { return this.#oldest }

  /** As the newest. */
  link (e: Entry): void {
    e.older = this.#newest
    e.newer = undefined
    if (this.#newest !== undefined) this.#newest.newer = e
    this.#newest = e
    this.#oldest ??= e
  }

  unlink (e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older
    else this.#newest = e.older
    if (e.older !== undefined) e.older.newer = e.newer
    else this.#oldest = e.newer
    e.newer = e.older = undefined
  }

  /** Forgets every entry (their own links go with them: a flush drops them all). */
  clear (): void { this.#newest = this.#oldest = undefined }
}
