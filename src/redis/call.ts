/**
 * A request's Redis work under one deadline, with failover retries inside it.
 *
 * Why a per-request deadline and not only ioredis's commandTimeout: with auto-pipelining, a command queued
 * while a pipeline to the same node is in flight is not sent — and its timer does not start — until that
 * pipeline settles, so against a frozen server it answered after up to twice the timeout. One deadline per
 * request (not per command; deadlines.ts keeps them, one timer for all of a duration) bounds the answer from
 * the moment the request asked, whatever the connection does; auto-pipelining stays on. ioredis's own
 * commandTimeout still fails the stuck commands themselves.
 */
import { Cluster } from 'ioredis'
import { authFailure } from './auth-state.js'
import type { RedisClient } from './connect.js'
import { withDeadline } from './deadlines.js'
import { classifyRedisError } from './errors.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export interface CallOptions {
  deadlineMs: number
  /**
   * Reads are retried on a lost connection too (running one twice is harmless). Writes only when Redis
   * refused them (MOVED, TRYAGAIN, READONLY, …: nothing ran); after a lost connection a write may have run,
   * so the client is told 503 and decides (a retried SUCCESS answers 409, which means it is kept).
   */
  readOnly: boolean
}

/**
 * Runs `op` within the deadline, retrying failover errors with a short backoff while time remains. An
 * auto-pipelined batch answered MOVED for several slots is not retried by ioredis (it only retries a
 * pipeline whose errors are all the same); a slot-map refresh makes the retry go to the new owner.
 */
export function redisCall<T> (client: RedisClient, op: () => Promise<T>, opts: CallOptions): Promise<T> {
  // A connection whose credentials Redis refused: say so now instead of queueing until the deadline.
  const auth = client.status === 'ready' ? undefined : authFailure(client)
  if (auth !== undefined) return Promise.reject(auth)
  const deadline = performance.now() + opts.deadlineMs
  // The first attempt costs one promise; retries (rare) take the async path.
  return withDeadline(attempt(op).then(undefined, (err: unknown) => retried(client, op, opts, deadline, err)), opts.deadlineMs)
}

function attempt<T> (op: () => Promise<T>): Promise<T> {
  try {
    return op()
  } catch (err) {
    return Promise.reject(err)
  }
}

/** After a failed attempt: fails with `err` unless it is one to retry and time remains, else tries again. */
async function retried<T> (client: RedisClient, op: () => Promise<T>, opts: CallOptions, deadline: number, err: unknown): Promise<T> {
  for (let i = 0; ; i++) {
    const kind = classifyRedisError(err)
    if (kind !== 'refused' && !(opts.readOnly && kind === 'lost')) throw err
    if (client instanceof Cluster && /^(MOVED|ASK|CLUSTERDOWN|Too many Cluster)/.test((err as Error).message)) client.refreshSlotsCache()
    const pause = Math.min(100, 20 * 2 ** i)
    if (performance.now() + pause >= deadline) throw err
    await sleep(pause)
    try {
      return await op()
    } catch (again) {
      err = again
    }
  }
}
