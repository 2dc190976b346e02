/**
 * Redis INFO of every master, refreshed on a short timer and on every (re)connect of the data client: memory
 * (used, maxmemory, maxmemory_policy — INFO works where CONFIG is renamed away or not granted), evictions and
 * expiries, and connected replicas. Feeds the OOM answer's detail, the durable stores' fail-fast check and the
 * Redis metrics; never polls a connection that is not ready (so it never opens one by itself).
 */
import calculateSlot from 'cluster-key-slot'
import { Cluster, type Redis } from 'ioredis'
import { nodeAddress, type RedisClient } from './connect.js'

/** How often INFO is read (ms): short, so a lost replica fails durable stores fast. */
export const INFO_REFRESH_MS = 1000

export interface NodeInfo {
  usedMemoryBytes: number
  maxmemoryBytes: number
  maxmemoryPolicy: string
  evictedKeys: number
  expiredKeys: number
  connectedReplicas: number
}

function field (info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

function parse (info: string): NodeInfo {
  const n = (name: string): number => Number(field(info, name) ?? 0)
  return {
    usedMemoryBytes: n('used_memory'),
    maxmemoryBytes: n('maxmemory'),
    maxmemoryPolicy: field(info, 'maxmemory_policy') ?? 'unknown',
    evictedKeys: n('evicted_keys'),
    expiredKeys: n('expired_keys'),
    connectedReplicas: n('connected_slaves')
  }
}

function masters (client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client]
}

export class RedisInfoWatch {
  readonly #client: RedisClient
  #nodes = new Map<string, NodeInfo>()
  #running: Promise<void> | null = null
  #timer: NodeJS.Timeout | undefined

  constructor (client: RedisClient) {
    this.#client = client
  }

  /** Last INFO per master, by "host:port". */
  get nodes (): ReadonlyMap<string, NodeInfo> { return this.#nodes }

  /** Starts the timer and the refresh on every 'ready' of the data client. */
  start (): void {
    this.#client.on('ready', () => { this.refresh().catch(() => {}) })
    this.#timer = setInterval(() => { this.refresh().catch(() => {}) }, INFO_REFRESH_MS)
    this.#timer.unref()
    if (this.#client.status === 'ready') this.refresh().catch(() => {})
  }

  stop (): void { clearInterval(this.#timer) }

  /** Reads INFO now (one run at a time: callers share it); a failed read keeps the last figures. */
  refresh (): Promise<void> {
    if (this.#client.status !== 'ready') return Promise.resolve()
    this.#running ??= Promise.all(masters(this.#client).filter(n => n.status === 'ready').map(async node => {
      // Three sections in one round trip (auto-pipelined); INFO with several sections needs Redis 7.
      const text = (await Promise.all([node.info('memory'), node.info('stats'), node.info('replication')])).join('\n')
      return [nodeAddress(node), parse(text)] as const
    })).then(entries => {
      if (entries.length > 0) this.#nodes = new Map(entries)
    }).finally(() => { this.#running = null })
    return this.#running
  }

  /** The master that holds `key` (in a cluster: its slot's), or the one master. */
  nodeFor (key: string): NodeInfo | undefined {
    if (this.#client instanceof Cluster) {
      const owner = (this.#client.slots[calculateSlot(key)] ?? [])[0]
      return owner === undefined ? undefined : this.#nodes.get(owner)
    }
    return this.#nodes.values().next().value
  }
}
