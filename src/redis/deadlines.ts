/**
 * Deadlines for many promises at once, one timer per duration: every Redis call of a request is bounded
 * (call.ts), so a setTimeout and a clearTimeout per call were a timer-list insert and removal, a Timeout object
 * and its closure on every request. Calls of one duration end in the order they began, so each duration keeps
 * its pending calls in a list in that order, removes a call the moment it settles, and arms one timer for the
 * oldest one left; when it fires, every call past its deadline is failed and the timer re-armed for the next.
 */
import { RedisDeadlineError } from './errors.js'

/** One pending call: failed with RedisDeadlineError at `at` unless it settles first. */
interface Pending {
  readonly at: number
  readonly fail: (err: Error) => void
  prev: Pending | undefined
  next: Pending | undefined
  /** In its lane's list still (neither settled nor failed). */
  listed: boolean
}

/** The pending calls of one duration, oldest first, and the timer for the oldest. */
class Lane {
  readonly #ms: number
  #head: Pending | undefined = undefined
  #tail: Pending | undefined = undefined
  #timer: NodeJS.Timeout | undefined = undefined

  constructor (ms: number) {
    this.#ms = ms
  }

  add (fail: (err: Error) => void): Pending {
    const p: Pending = { at: performance.now() + this.#ms, fail, prev: this.#tail, next: undefined, listed: true }
    if (this.#tail === undefined) {
      this.#head = p
      // The process stays up while a call is pending (as it would for a timer of its own).
      if (this.#timer === undefined) this.#timer = this.#arm(this.#ms)
      else this.#timer.ref()
    } else {
      this.#tail.next = p
    }
    this.#tail = p
    return p
  }

  /** `p` leaves the list (a no-op once it has). */
  remove (p: Pending): void {
    if (!p.listed) return
    p.listed = false
    if (p.prev === undefined) this.#head = p.next
    else p.prev.next = p.next
    if (p.next === undefined) this.#tail = p.prev
    else p.next.prev = p.prev
    p.prev = p.next = undefined
    // Nothing pending: the timer stays armed (it finds nothing and stops) but no longer holds the process.
    if (this.#head === undefined) this.#timer?.unref()
  }

  #arm (ms: number): NodeJS.Timeout {
    return setTimeout(this.#expire, Math.max(1, Math.ceil(ms)))
  }

  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    for (let p = this.#head; p !== undefined && p.at <= now; p = this.#head) {
      this.remove(p)
      p.fail(new RedisDeadlineError(this.#ms))
    }
    if (this.#head !== undefined) this.#timer = this.#arm(this.#head.at - now)
  }
}

const lanes = new Map<number, Lane>()

/** Rejects with RedisDeadlineError after `ms` unless `work` settles first (then as `work` did). */
export function withDeadline<T> (work: Promise<T>, ms: number): Promise<T> {
  let lane = lanes.get(ms)
  if (lane === undefined) {
    lane = new Lane(ms)
    lanes.set(ms, lane)
  }
  const l = lane
  return new Promise<T>((resolve, reject) => {
    const p = l.add(reject)
    work.then(v => { l.remove(p); resolve(v) }, (err: unknown) => { l.remove(p); reject(err) })
  })
}
