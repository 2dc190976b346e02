/**
 * Result statistics for operators: result keys by state and by TTL bucket (SCAN in bounded batches, with a
 * key budget, so large keyspaces give an estimate), plus Redis memory and eviction policy per master.
 */
import { decodeMeta, detectFormat } from '../celery/codec.js'
import { mgetBuffers, type RedisClient } from '../redis/connect.js'
import { scanResultKeys, scanTargets, type ScanOptions } from './scan.js'

export const TTL_BUCKETS = ['none', 'under_1h', 'under_1d', 'under_7d', 'over_7d'] as const
export type TtlBucket = typeof TTL_BUCKETS[number]

export interface ResultStats {
  /** keys looked at; `complete` false when the key budget ran out first (counts are then a sample) */
  scannedKeys: number
  complete: boolean
  byState: Record<string, number>
  byTtl: Record<TtlBucket, number>
  /** the two above jointly, for the result_gateway_result_keys{state, ttl} gauge */
  byStateTtl: Record<string, Record<TtlBucket, number>>
  memory: { usedBytes: number, peakBytes: number, maxmemoryBytes: number, policies: string[] }
  durationMs: number
}

/**
 * Buckets hold "at most" their bound: a result stored with the default TTL of a day stays in under_1d for its
 * whole life (with "below", it sat in under_7d for one second and then moved, and counts raced the clock).
 */
export function ttlBucket (ttl: number): TtlBucket {
  if (ttl < 0) return 'none'
  if (ttl <= 3600) return 'under_1h'
  if (ttl <= 86400) return 'under_1d'
  if (ttl <= 7 * 86400) return 'under_7d'
  return 'over_7d'
}

/** The stored state, or the serializer name when the value is never decoded (pickle, yaml). */
export function stateOf (raw: Buffer): string {
  const format = detectFormat(raw)
  if (format !== 'json' && format !== 'msgpack') return `UNDECODABLE_${format.toUpperCase()}`
  try {
    return decodeMeta(raw).meta.status
  } catch {
    return 'UNDECODABLE'
  }
}

export function infoField (info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

export async function memoryStats (redis: RedisClient): Promise<ResultStats['memory']> {
  const out = { usedBytes: 0, peakBytes: 0, maxmemoryBytes: 0, policies: [] as string[] }
  for (const node of scanTargets(redis)) {
    const info = await node.info('memory')
    out.usedBytes += Number(infoField(info, 'used_memory') ?? 0)
    out.peakBytes += Number(infoField(info, 'used_memory_peak') ?? 0)
    out.maxmemoryBytes += Number(infoField(info, 'maxmemory') ?? 0)
    const policy = infoField(info, 'maxmemory_policy')
    if (policy !== undefined && !out.policies.includes(policy)) out.policies.push(policy)
  }
  return out
}

export async function collectStats (redis: RedisClient, opts: ScanOptions): Promise<ResultStats> {
  const started = Date.now()
  const byState: Record<string, number> = {}
  const zero = (): Record<TtlBucket, number> => Object.fromEntries(TTL_BUCKETS.map(b => [b, 0])) as Record<TtlBucket, number>
  const byTtl = zero()
  const byStateTtl: Record<string, Record<TtlBucket, number>> = {}
  let scanned = 0
  let complete = false
  for await (const { keys, cursor } of scanResultKeys(redis, opts)) {
    if (keys.length > 0) {
      const [values, ttls] = await Promise.all([mgetBuffers(redis, keys), Promise.all(keys.map(k => redis.ttl(k)))])
      values.forEach((raw, i) => {
        if (raw === null) return // expired between SCAN and GET
        scanned++
        const state = stateOf(raw)
        byState[state] = (byState[state] ?? 0) + 1
        const bucket = ttlBucket(ttls[i] ?? -1)
        byTtl[bucket]++
        const joint = byStateTtl[state] ??= zero()
        joint[bucket]++
      })
    }
    if (cursor === null) complete = true
  }
  return { scannedKeys: scanned, complete, byState, byTtl, byStateTtl, memory: await memoryStats(redis), durationMs: Date.now() - started }
}
