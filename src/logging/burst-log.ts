/** Folding bursts of one expected operational error into one log line per window. */

/**
 * Expected operational errors come in bursts (a failover, a frozen Redis, rotated credentials: every request
 * and every reconnect attempt fails the same way): the first of each key is logged, then at most one line
 * per window saying how many more there were. Keys come from a closed set (problem codes, connection roles).
 */
export class BurstLog {
  readonly #seen = new Map<string, { at: number, folded: number }>()
  readonly #windowMs: number
  constructor (windowMs = 10_000) { this.#windowMs = windowMs }

  /** null: fold this one into the current burst; a number: log now, with that many folded since the last line. */
  take (key: string, now = Date.now()): number | null {
    const e = this.#seen.get(key)
    if (e !== undefined && now - e.at < this.#windowMs) {
      e.folded++
      return null
    }
    this.#seen.set(key, { at: now, folded: 0 })
    return e?.folded ?? 0
  }
}
