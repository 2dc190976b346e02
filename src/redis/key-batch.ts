/**
 * One Redis call for many requests: every item asked for during one turn of the event loop is sent at the end
 * of that turn in one script call (read-batch.ts, store-batch.ts), where a command per request was a Command
 * object, a reply to parse, a promise, a timer and (outside auto-pipelining) a socket write each. Under load,
 * tens of concurrent requests share a call; an idle gateway sends a call of one item at the end of the current
 * turn, no later. Calls are written as they are issued, never auto-pipelined (redis/connect.ts's
 * NOT_AUTO_PIPELINED), so several can be in Redis at once.
 *
 * In Cluster the keys of one call must share a slot: items are grouped by slot (most groups hold one). A call
 * that fails fails every item in it with the same error, except an ACL refusal of the call's keys (NOPERM, one
 * key the user may not touch refuses the whole call): each item is then asked alone, so only the denied ones
 * fail. Each request's own deadline and failover retries (redis/call.ts) apply to it alone.
 */
import calculateSlot from 'cluster-key-slot'
import { Cluster, ReplyError } from 'ioredis'
import type { RedisClient } from './connect.js'

/** The most items in one call: a call runs to its end inside Redis, so it is kept short. */
export const MAX_ITEMS_PER_CALL = 64

/** Sends one call for `items` (all in one slot) and answers each: a value, or an Error for that item alone. */
export type SendBatch<I, R> = (client: RedisClient, items: readonly I[]) => Promise<Array<R | Error>>

interface Pending<I, R> { item: I, resolve: (r: R) => void, reject: (err: unknown) => void }

/**
 * Redis's refusal of one item's command inside a script, as the error that command alone would have met: the
 * reply table (replies.ts) reads its text, and the problem names the command (plugins/redis-problem.ts).
 */
export function refusedInScript (message: string, command: string): Error {
  return Object.assign(new ReplyError(message), { command: { name: command } })
}

export class KeyBatcher<I, R> {
  readonly #client: RedisClient
  readonly #cluster: boolean
  readonly #keyOf: (item: I) => string
  readonly #send: SendBatch<I, R>
  /** The command an ACL refusal of the call's keys is reported as (what the script runs on them). */
  readonly #command: string
  #pending: Array<Pending<I, R>> = []

  constructor (client: RedisClient, opts: { keyOf: (item: I) => string, send: SendBatch<I, R>, command: string }) {
    this.#client = client
    this.#cluster = client instanceof Cluster
    this.#keyOf = opts.keyOf
    this.#send = opts.send
    this.#command = opts.command
  }

  /** The item's answer, sent with the other items of this turn of the event loop. */
  run (item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      // After the I/O callbacks of this turn: every request parsed in it is in the batch.
      if (this.#pending.length === 0) setImmediate(this.#flush)
      this.#pending.push({ item, resolve, reject })
    })
  }

  readonly #flush = (): void => {
    const pending = this.#pending
    this.#pending = []
    if (!this.#cluster) {
      this.#chunks(pending)
      return
    }
    const bySlot = new Map<number, Array<Pending<I, R>>>()
    for (const p of pending) {
      const slot = calculateSlot(this.#keyOf(p.item))
      const group = bySlot.get(slot)
      if (group === undefined) bySlot.set(slot, [p])
      else group.push(p)
    }
    for (const group of bySlot.values()) this.#chunks(group)
  }

  #chunks (group: Array<Pending<I, R>>): void {
    for (let i = 0; i < group.length; i += MAX_ITEMS_PER_CALL) this.#call(group.slice(i, i + MAX_ITEMS_PER_CALL))
  }

  #call (batch: Array<Pending<I, R>>): void {
    this.#send(this.#client, batch.map(p => p.item)).then(answers => {
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i] as Pending<I, R>
        const a = answers[i] as R | Error
        if (a instanceof Error) p.reject(a)
        else p.resolve(a)
      }
    }, (err: unknown) => {
      const denied = err instanceof Error && err.message.startsWith('NOPERM')
      if (denied && batch.length > 1) {
        for (const p of batch) this.#call([p])
        return
      }
      const reason = denied ? refusedInScript(err.message, this.#command) : err
      for (const p of batch) p.reject(reason)
    })
  }
}
