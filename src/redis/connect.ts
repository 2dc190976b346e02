/**
 * The one factory that turns the configured topology (standalone, unix socket, Sentinel, Cluster; TLS or not)
 * into ioredis clients, plus the few operations whose shape depends on it (readiness, multi-key reads, WAIT).
 * Nothing else in the code knows which topology is in use. Redis errors are classified in ./errors.ts.
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { ConnectionOptions } from 'node:tls'
import calculateSlot from 'cluster-key-slot'
import type { RedisSettings } from './settings.js'
import type { Endpoint } from './topology.js'

/** Data commands: one connection (standalone / Sentinel master) or a cluster of them. */
export type RedisClient = Redis | Cluster
/**
 * data: the shared, auto-pipelined connection; durable: one of the pool's connections for SET+WAIT;
 * rate-limit: @fastify/rate-limit's own connection, whose counts fail open after RATE_LIMIT_BUDGET_MS;
 * tracking: the answer cache's invalidation subscriber (CLIENT TRACKING redirects there).
 */
export type RedisRole = 'data' | 'subscriber' | 'durable' | 'rate-limit' | 'tracking'

/**
 * How long a rate-limit count may take before the request goes on uncounted (fail open, as the plugin's
 * skipOnError does for errors). Without a bound a frozen Redis (or a Cluster queueing commands while it cannot
 * authenticate) held every request in the count before its own deadline even started: the answer came after
 * 2 × RG_REDIS_COMMAND_TIMEOUT_MS, or never. With it, a request answers within the command timeout + this.
 */
export const RATE_LIMIT_BUDGET_MS = 100

const retryStrategy = (times: number): number => Math.min(50 * 2 ** times, 2000)

function tlsOptions (cfg: RedisSettings): ConnectionOptions | undefined {
  if (cfg.tls === null) return undefined
  const { ca, cert, key, servername, rejectUnauthorized } = cfg.tls
  return { rejectUnauthorized, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(servername === undefined ? {} : { servername }) }
}

/** Options every single connection shares, whatever the topology. */
function baseOptions (cfg: RedisSettings, role: RedisRole): RedisOptions {
  const tls = tlsOptions(cfg)
  return {
    lazyConnect: true,
    connectionName: `result-gateway:${role}`,
    // CLIENT SETINFO fails on Redis < 7.2 and would show up as command errors in the metrics.
    disableClientInfo: true,
    connectTimeout: cfg.connectTimeoutMs,
    // The subscriber's SUBSCRIBEs may wait behind a burst of new waiters; each waiter has its own timeout,
    // and the Waiter bounds the wait for a ready connection with the command timeout instead.
    // A durable connection's WAIT legitimately blocks for the durable timeout on top of a command's own time.
    ...(role === 'data' ? { commandTimeout: cfg.commandTimeoutMs } : {}),
    ...(role === 'durable' ? { commandTimeout: cfg.commandTimeoutMs + cfg.durable.timeoutMs } : {}),
    // Set before a command is queued offline too: a count waiting for a reconnect is bounded as well.
    ...(role === 'rate-limit' ? { commandTimeout: RATE_LIMIT_BUDGET_MS } : {}),
    // Fail a request fast instead of queueing it behind reconnects; the caller answers 503.
    maxRetriesPerRequest: 1,
    retryStrategy,
    ...(cfg.username === null ? {} : { username: cfg.username }),
    ...(cfg.password === null ? {} : { password: cfg.password }),
    ...(tls === undefined ? {} : { tls })
  }
}

/**
 * Commands the data connection sends outside auto-pipelining, written to the socket as they are issued: the
 * batched reads and stores (redis/key-batch.ts) are already one call per turn of the event loop, and
 * - auto-pipelining would group a call by its first argument, the key count, not by its first key (ioredis's
 *   getFirstValueInFlattenedArray): in Cluster, a pipeline of keys from other masters' slots ("All keys in the
 *   pipeline should belong to the same slots allocation group");
 * - ioredis keeps one auto-pipeline in flight per node: Redis ran one batch of store scripts while the gateway
 *   waited, then the gateway answered them while Redis waited (a quarter of the gateway's time idle at 50
 *   concurrent stores). Sent as they come, both work at once: paired A/B of wrk PUT 4 KB, stores/s
 *   1.04-1.66x, gateway CPU per store 0.84-0.91x (one store per call, before stores were batched).
 */
const NOT_AUTO_PIPELINED = ['readWithTtl', 'storeResults']

/** ioredis options for one connection (standalone, socket or Sentinel-managed master). */
export function redisOptions (cfg: RedisSettings, role: RedisRole): RedisOptions {
  const t = cfg.topology
  if (t === null) throw new Error('no Redis configured')
  const opts: RedisOptions = { ...baseOptions(cfg, role), enableAutoPipelining: role === 'data', autoPipeliningIgnoredCommands: NOT_AUTO_PIPELINED }
  switch (t.kind) {
    case 'standalone': return { ...opts, host: t.host, port: t.port, db: t.db }
    case 'socket': return { ...opts, path: t.path, db: t.db }
    case 'sentinel': return {
      ...opts,
      db: t.db,
      name: t.masterName,
      sentinels: t.sentinels.map(s => ({ ...s })),
      role: 'master',
      // Subscribe to +switch-master on the sentinels: a failover is followed at once, not on the next error.
      failoverDetector: true,
      sentinelRetryStrategy: retryStrategy,
      sentinelMaxConnections: 3,
      ...(cfg.sentinelUsername === null ? {} : { sentinelUsername: cfg.sentinelUsername }),
      ...(cfg.sentinelPassword === null ? {} : { sentinelPassword: cfg.sentinelPassword })
    }
    case 'cluster': {
      const [first] = t.nodes as [Endpoint]
      return { ...opts, host: first.host, port: first.port }
    }
  }
}

function clusterOptions (cfg: RedisSettings, role: Exclude<RedisRole, 'subscriber'>): ClusterOptions {
  const { lazyConnect, retryStrategy: _r, ...redisOpts } = baseOptions(cfg, role)
  return {
    lazyConnect,
    redisOptions: redisOpts,
    enableAutoPipelining: role === 'data',
    autoPipeliningIgnoredCommands: NOT_AUTO_PIPELINED,
    // A cluster's own queue (while it is not ready) has no command timeout: a count fails at once instead.
    ...(role === 'rate-limit' ? { enableOfflineQueue: false } : {}),
    enableReadyCheck: true,
    // Commands for slots whose master is gone are retried while the cluster fails over; the command
    // timeout still bounds each request, so callers get a fast 503 instead of a hang.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: cfg.connectTimeoutMs,
    clusterRetryStrategy: retryStrategy
  }
}

/** The data client (or one durable-store or rate-limit connection) for the configured topology. */
export function createRedis (cfg: RedisSettings, role: Exclude<RedisRole, 'subscriber'> = 'data'): RedisClient {
  const t = cfg.topology
  if (t?.kind === 'cluster') return new Cluster(t.nodes.map((n): ClusterNode => ({ ...n })), clusterOptions(cfg, role))
  return new Redis(redisOptions(cfg, role))
}

/**
 * The pub/sub connection for waiting: always one plain connection, so the Waiter's reconnect handling
 * (ioredis resubscribes, then 'ready' → re-read every waited key) is the same everywhere. In a Cluster a
 * PUBLISH reaches every node, so any node will do: on each reconnect attempt it moves on to the next node
 * the data client knows (or the next seed), so a lost node is replaced within one retry.
 */
export function createSubscriber (cfg: RedisSettings, data: RedisClient): Redis {
  const t = cfg.topology
  if (t?.kind !== 'cluster' || !(data instanceof Cluster)) return new Redis(redisOptions(cfg, 'subscriber'))
  const opts = redisOptions(cfg, 'subscriber')
  let next = 0
  const sub: Redis = new Redis({
    ...opts,
    retryStrategy: (times) => {
      const known = data.nodes('all').map(n => ({ host: n.options.host ?? '', port: n.options.port ?? 0 }))
      const candidates = known.length > 0 ? known : t.nodes
      const node = candidates[next++ % candidates.length] as Endpoint
      // StandaloneConnector reads host/port from these options on every connect.
      sub.options.host = node.host
      sub.options.port = node.port
      return Math.min(50 * times, 500)
    }
  })
  return sub
}

/** "host:port" of one connection, as CLUSTER SLOTS and the cluster's node list name it. */
export function nodeAddress (node: Redis): string {
  return `${node.options.host ?? ''}:${node.options.port ?? 0}`
}

/** Readiness of the data side: the master answers (standalone / Sentinel), or cluster_state:ok. */
export async function checkReady (client: RedisClient): Promise<void> {
  if (client instanceof Cluster) {
    const info = String(await client.cluster('INFO'))
    const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown'
    if (state !== 'ok') throw new Error(`CLUSTERDOWN cluster_state:${state}`)
    return
  }
  await client.ping()
}

/**
 * GET of many keys, never one cross-slot command: one MGET outside a cluster; in a cluster one MGET per
 * hash slot, which auto-pipelining sends to each node in one round trip.
 */
export async function mgetBuffers (client: RedisClient, keys: string[]): Promise<Array<Buffer | null>> {
  if (keys.length === 0) return []
  if (!(client instanceof Cluster)) return client.mgetBuffer(...keys)
  const bySlot = new Map<number, number[]>()
  keys.forEach((key, i) => {
    const slot = calculateSlot(key)
    const list = bySlot.get(slot)
    if (list === undefined) bySlot.set(slot, [i])
    else list.push(i)
  })
  const out = new Array<Buffer | null>(keys.length).fill(null)
  await Promise.all([...bySlot.values()].map(async idx => {
    const values = await client.mgetBuffer(...idx.map(i => keys[i] as string))
    idx.forEach((i, j) => { out[i] = values[j] ?? null })
  }))
  return out
}

/**
 * Redis WAIT on the connection that wrote `key` (its slot's master in a cluster): resolves with the number
 * of replicas that acknowledged every write sent on that connection so far.
 */
export async function waitForReplicas (client: RedisClient, key: string, replicas: number, timeoutMs: number): Promise<number> {
  if (!(client instanceof Cluster)) return client.wait(replicas, timeoutMs)
  const owner = (client.slots[calculateSlot(key)] ?? [])[0]
  const node = client.nodes('master').find(n => nodeAddress(n) === owner)
  if (node === undefined) throw new Error('CLUSTERDOWN no master known for the key\'s slot')
  return node.wait(replicas, timeoutMs)
}

/**
 * Closes a client without connecting one that never connected (lazyConnect), and without waiting more than
 * `graceMs` for QUIT: a Redis that went away must not hold up shutdown.
 */
export async function closeRedis (client: RedisClient, graceMs = 1000): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  const timer = setTimeout(() => client.disconnect(), graceMs)
  try {
    await client.quit()
  } catch { /* disconnected below */ } finally {
    clearTimeout(timer)
    // Also ends what QUIT leaves open: a Sentinel client's failover-detector connections to the sentinels.
    client.disconnect()
  }
}
