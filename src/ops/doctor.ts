/**
 * `result-gateway doctor`: connects with the service's own configuration and checks what the seed guide's
 * troubleshooting one-liners check by hand — each line pass / warn / fail with the fix to apply.
 */
import { Cluster, Redis } from 'ioredis'
import { detectFormat } from '../celery/codec.js'
import type { RedisSettings } from '../redis/settings.js'
import { missingPermissions } from '../redis/acl-probe.js'
import { closeRedis, createRedis, mgetBuffers, redisOptions, type RedisClient } from '../redis/connect.js'
import { preflight } from '../redis/preflight.js'
import { describeTopology, type Topology } from '../redis/topology.js'
import { scanResultKeys, scanTargets } from './scan.js'
import { infoField } from './stats.js'

export type CheckStatus = 'pass' | 'warn' | 'fail'
export interface Check { name: string, status: CheckStatus, detail: string, fix?: string }

const check = (name: string, status: CheckStatus, detail: string, fix?: string): Check =>
  fix === undefined ? { name, status, detail } : { name, status, detail, fix }

async function configValue (node: Redis, name: string): Promise<string | null> {
  try {
    const [, value] = await node.config('GET', name) as [string, string]
    return value ?? null
  } catch {
    return null // CONFIG is not in the gateway's least-privilege ACL
  }
}

async function topologyCheck (cfg: RedisSettings, t: Topology, redis: RedisClient): Promise<Check> {
  if (t.kind === 'cluster' && redis instanceof Cluster) {
    const info = String(await redis.cluster('INFO'))
    const state = infoField(info, 'cluster_state') ?? 'unknown'
    const nodes = String(await redis.cluster('NODES')).split('\n').filter(l => l.trim() !== '')
    const failed = nodes.filter(l => /\bfail\b/.test(l.split(' ')[2] ?? '')).map(l => l.split(' ')[1]?.split('@')[0] ?? '?')
    if (state !== 'ok') return check('topology', 'fail', `cluster_state:${state}; failed nodes: ${failed.join(', ') || 'none'}`, 'bring the failed masters back or let their replicas take over (cluster-node-timeout)')
    if (failed.length > 0) return check('topology', 'warn', `cluster_state:ok, but ${failed.length} node(s) failed: ${failed.join(', ')}`, 'replace the failed nodes: their slots now have no replica left')
    return check('topology', 'pass', `cluster_state:ok, ${nodes.length} nodes, slots ${infoField(info, 'cluster_slots_ok') ?? '?'}/16384 ok`)
  }
  if (t.kind === 'sentinel') {
    for (const s of t.sentinels) {
      const sentinel = new Redis({ host: s.host, port: s.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: cfg.connectTimeoutMs, ...(cfg.sentinelPassword === null ? {} : { password: cfg.sentinelPassword }), ...(cfg.sentinelUsername === null ? {} : { username: cfg.sentinelUsername }) })
      sentinel.on('error', () => {})
      try {
        await sentinel.connect()
        const reply = String(await sentinel.call('SENTINEL', 'CKQUORUM', t.masterName))
        return check('topology', 'pass', `sentinel ${s.host}:${s.port}: ${reply}`)
      } catch (err) {
        if (/NOQUORUM|No such master/i.test((err as Error).message)) {
          return check('topology', 'fail', `sentinel ${s.host}:${s.port}: ${(err as Error).message}`, 'start enough sentinels for the quorum, or check RG_REDIS_SENTINEL_MASTER')
        }
      } finally {
        sentinel.disconnect()
      }
    }
    return check('topology', 'fail', 'no sentinel answered', 'check RG_REDIS_SENTINELS / the sentinel:// URL and RG_REDIS_SENTINEL_PASSWORD')
  }
  const role = infoField(await (redis as Redis).info('replication'), 'role') ?? 'unknown'
  if (role !== 'master') return check('topology', 'fail', `connected to a ${role}, which refuses writes`, 'point the gateway at the master (or use Sentinel)')
  return check('topology', 'pass', `${describeTopology(t)}, role master`)
}

async function evictionCheck (node: Redis): Promise<Check> {
  const [info, stats] = await Promise.all([node.info('memory'), node.info('stats')])
  const policy = infoField(info, 'maxmemory_policy') ?? 'unknown'
  const max = Number(infoField(info, 'maxmemory') ?? 0)
  const evicted = Number(infoField(stats, 'evicted_keys') ?? 0)
  if (evicted > 0) {
    return check('maxmemory-policy', 'warn', `${policy}${max > 0 ? `, maxmemory ${max} bytes` : ''}: Redis evicted ${evicted} keys since it started — results that had not expired are gone (clients see 404 / PENDING)`,
      'raise maxmemory, shorten result_expires, or use noeviction (stores then answer 503 redis-out-of-memory instead of losing results)')
  }
  if (policy.startsWith('allkeys-')) {
    return check('maxmemory-policy', 'warn', `${policy}: when memory is full Redis evicts results that have no TTL, even unread ones (0 evicted since Redis started)`, 'CONFIG SET maxmemory-policy volatile-lru (or noeviction), and keep result_expires set')
  }
  if (policy === 'noeviction' && max > 0) {
    return check('maxmemory-policy', 'pass', `noeviction with maxmemory ${max} bytes: stores fail (503) when memory is full rather than losing results`)
  }
  return check('maxmemory-policy', 'pass', `${policy}${max > 0 ? `, maxmemory ${max} bytes` : ', no maxmemory limit'}`)
}

/** Every command the gateway sends, probed as the configured user without changing anything (redis/acl-probe.ts). */
async function aclCheck (cfg: RedisSettings): Promise<Check> {
  const conn = new Redis({ ...redisOptions(cfg, 'durable'), retryStrategy: () => null, maxRetriesPerRequest: 0, connectionName: 'result-gateway:doctor' })
  conn.on('error', () => {})
  try {
    const { missing, unchecked } = await missingPermissions(conn, cfg.keyPrefix)
    const who = cfg.username === null ? 'the default user' : `user ${cfg.username}`
    if (missing.length > 0) {
      return check('acl', 'fail', `${who} may not run ${missing.map(c => c.toUpperCase()).join(', ')} on the gateway's keys${unchecked.length > 0 ? ' (writes not checked: MULTI denied)' : ''}`,
        `grant ${missing.map(c => `+${c}`).join(' ')} (the whole rule: docs/redis-errors.md)`)
    }
    return check('acl', 'pass', `${who} may run every command the gateway sends, on its keys and channels`)
  } finally {
    conn.disconnect()
  }
}

async function persistenceCheck (node: Redis): Promise<Check> {
  const aof = infoField(await node.info('persistence'), 'aof_enabled') === '1'
  const save = await configValue(node, 'save')
  if (aof) return check('persistence', 'pass', `AOF on${save !== null && save !== '' ? `, RDB save "${save}"` : ''}`)
  if (save === null) return check('persistence', 'warn', 'AOF off; RDB save points unknown (CONFIG GET is not granted)', 'check `save` in redis.conf, or enable appendonly yes')
  if (save === '') return check('persistence', 'warn', 'neither RDB snapshots nor AOF: every result is lost when Redis restarts', 'set appendonly yes (or save 900 1) in redis.conf')
  return check('persistence', 'pass', `RDB save "${save}" (AOF off: the last minutes of results may be lost on a crash)`)
}

async function keyspaceEventsCheck (node: Redis): Promise<Check> {
  const value = await configValue(node, 'notify-keyspace-events')
  if (value === null) return check('notify-keyspace-events', 'pass', 'not readable (CONFIG GET is not granted); the gateway does not need keyspace events')
  return check('notify-keyspace-events', 'pass', `"${value}": the gateway wakes waiters from Celery's own PUBLISH and needs no keyspace events`)
}

async function latencyCheck (node: Redis): Promise<Check> {
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint()
    await node.ping()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  const median = times.sort((a, b) => a - b)[2] ?? 0
  const detail = `PING round trip median ${median.toFixed(2)} ms (of 5)`
  return median > 10 ? check('latency', 'warn', detail, 'run the gateway close to Redis (same zone), or check Redis for slow commands (SLOWLOG GET)') : check('latency', 'pass', detail)
}

async function resultsCheck (redis: RedisClient, prefix: string): Promise<Check> {
  const formats: Record<string, number> = {}
  let found = 0
  for await (const { keys } of scanResultKeys(redis, { prefix, count: 200, pauseMs: 0, maxKeys: 200 })) {
    for (const raw of await mgetBuffers(redis, keys.slice(0, 200 - found))) {
      if (raw === null) continue
      found++
      const f = detectFormat(raw)
      formats[f] = (formats[f] ?? 0) + 1
    }
    if (found >= 200) break
  }
  const where = prefix === '' ? 'without a prefix' : `under the prefix "${prefix}"`
  if (found === 0) return check('results', 'warn', `no celery-task-meta-* keys ${where}`, 'check RG_REDIS_KEY_PREFIX against Celery\'s global_keyprefix, and the database number')
  const mix = Object.entries(formats).map(([f, n]) => `${f} ${n}`).join(', ')
  if ((formats.pickle ?? 0) + (formats.yaml ?? 0) > 0) {
    return check('results', 'warn', `${found} results sampled ${where}: ${mix}; pickle and yaml are never decoded`, 'set Celery\'s result_serializer to json (or msgpack)')
  }
  return check('results', 'pass', `${found} results sampled ${where}: ${mix}`)
}

/** Every check, in order; stops after the connection check when it fails. */
export async function runDoctor (cfg: RedisSettings): Promise<Check[]> {
  if (cfg.topology === null) return [check('connection', 'fail', 'no Redis configured', 'set RG_REDIS_URL (or RG_REDIS_SENTINELS / RG_REDIS_CLUSTER_NODES / REDIS_HOST)')]
  const where = describeTopology(cfg.topology)
  const pre = await preflight(cfg)
  if (pre.status === 'fatal') return [check('connection', 'fail', `${where}: ${pre.message}`)]
  if (pre.status === 'unreachable') return [check('connection', 'fail', `${where}: ${pre.message}`, 'check that Redis runs and the host, port and firewall (the seed guide\'s "connection refused")')]
  const checks: Check[] = [check('connection', 'pass', `${where}: connected${cfg.tls === null ? '' : ' over TLS'}${cfg.username === null ? '' : ` as ${cfg.username}`}`)]
  const redis = createRedis(cfg)
  redis.on('error', () => {})
  try {
    if (redis instanceof Cluster) await redis.connect()
    checks.push(await topologyCheck(cfg, cfg.topology, redis))
    const first = redis instanceof Cluster ? scanTargets(redis)[0] : redis
    if (first !== undefined) {
      checks.push(await evictionCheck(first), await aclCheck(cfg), await persistenceCheck(first), await keyspaceEventsCheck(first), await latencyCheck(first))
    }
    checks.push(await resultsCheck(redis, cfg.keyPrefix))
  } catch (err) {
    checks.push(check('checks', 'fail', `stopped: ${(err as Error).message.split('\n')[0] ?? ''}`))
  } finally {
    await closeRedis(redis)
  }
  return checks
}

export function formatChecks (checks: Check[]): string {
  return checks.map(c => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(22)} ${c.detail}${c.fix === undefined ? '' : `\n      fix: ${c.fix}`}`).join('\n')
}
