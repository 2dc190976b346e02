/**
 * The orphan sweep: result keys without a TTL (the seed guide's "orphaned results", left by result_expires=None
 * or by hand-made keys) are reported (dry run, the default) or given the configured TTL — never deleted.
 * EXPIRE … NX leaves alone a key that gained a TTL meanwhile. Resumable by cursor; paced by the scan.
 */
import { taskIdOfKey } from '../celery/keys.js'
import type { RedisClient } from '../redis/connect.js'
import { scanResultKeys, type ScanOptions } from './scan.js'

export interface SweepResult {
  scannedKeys: number
  orphans: number
  /** orphans given the TTL (0 in a dry run) */
  expired: number
  ttlSeconds: number
  dryRun: boolean
  /** up to 20 task ids of orphans found, to look at */
  sample: string[]
  /** where to resume; null when the walk is complete */
  cursor: string | null
}

export async function sweepOrphans (redis: RedisClient, opts: ScanOptions & { apply: boolean, ttlSeconds: number, onProgress?: (r: SweepResult) => void }): Promise<SweepResult> {
  const out: SweepResult = { scannedKeys: 0, orphans: 0, expired: 0, ttlSeconds: opts.ttlSeconds, dryRun: !opts.apply, sample: [], cursor: opts.cursor ?? '0:0' }
  for await (const { keys, cursor } of scanResultKeys(redis, opts)) {
    const ttls = await Promise.all(keys.map(k => redis.ttl(k)))
    const orphans = keys.filter((_, i) => ttls[i] === -1)
    out.scannedKeys += keys.length
    out.orphans += orphans.length
    for (const key of orphans) {
      const id = taskIdOfKey(opts.prefix, key)
      if (id !== null && out.sample.length < 20) out.sample.push(id)
    }
    if (opts.apply && orphans.length > 0) {
      const set = await Promise.all(orphans.map(k => redis.expire(k, opts.ttlSeconds, 'NX')))
      out.expired += set.filter(n => n === 1).length
    }
    out.cursor = cursor
    opts.onProgress?.({ ...out, sample: [...out.sample] })
  }
  return out
}
