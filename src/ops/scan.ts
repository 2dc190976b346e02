/**
 * Walks the result keys with SCAN (never KEYS) in bounded batches, pausing between batches so Redis latency
 * stays flat, across every master of a cluster. The position is one opaque, resumable cursor string:
 * "<master index>:<SCAN cursor>", "0:0" at the start; null once every master is done.
 */
import { Cluster } from 'ioredis'
import type { Redis } from 'ioredis'
import { taskKeyPattern } from '../celery/keys.js'
import { nodeAddress, type RedisClient } from '../redis/connect.js'

export interface ScanOptions {
  prefix: string
  /** SCAN COUNT hint per call */
  count: number
  /** pause between SCAN calls, ms */
  pauseMs: number
  /** where to resume ("0:0" or a cursor a previous walk returned) */
  cursor?: string
  /** stop after about this many keys (the cursor then says where to go on) */
  maxKeys?: number
}

export class CursorError extends Error {
  override name = 'CursorError'
}

/** The masters to scan, in a stable order (a cursor stays valid while the cluster's masters do). */
export function scanTargets (redis: RedisClient): Redis[] {
  if (!(redis instanceof Cluster)) return [redis]
  return redis.nodes('master').sort((a, b) => nodeAddress(a).localeCompare(nodeAddress(b)))
}

function parseCursor (cursor: string, targets: number): [number, string] {
  const m = /^(\d{1,4}):(\d{1,20})$/.exec(cursor)
  if (m === null || Number(m[1]) >= targets) throw new CursorError(`cursor "${cursor.slice(0, 40)}" is not one this gateway returned`)
  return [Number(m[1]), m[2] as string]
}

/** Yields batches of result keys; `cursor` after each batch is where a later walk resumes (null: done). */
export async function * scanResultKeys (redis: RedisClient, opts: ScanOptions): AsyncGenerator<{ keys: string[], cursor: string | null }> {
  const targets = scanTargets(redis)
  let [node, cursor] = parseCursor(opts.cursor ?? '0:0', targets.length)
  const match = taskKeyPattern(opts.prefix)
  let seen = 0
  while (node < targets.length) {
    const target = targets[node] as Redis
    const [next, keys] = await target.scan(cursor, 'MATCH', match, 'COUNT', opts.count)
    seen += keys.length
    if (next === '0') {
      node++
      cursor = '0'
    } else {
      cursor = next
    }
    const position = node < targets.length ? `${node}:${cursor}` : null
    yield { keys, cursor: position }
    if (position === null || (opts.maxKeys !== undefined && seen >= opts.maxKeys)) return
    if (opts.pauseMs > 0) await new Promise(resolve => setTimeout(resolve, opts.pauseMs))
  }
}
