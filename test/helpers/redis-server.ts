/**
 * Test harness: real redis-server / redis-sentinel processes on free loopback ports, stopped by pid in
 * t.teardown — a single server, a Sentinel set (1 master, 2 replicas, 3 sentinels) and a Cluster
 * (3 masters + 3 replicas made with redis-cli --cluster create).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort, onFreePort, spawnRedis, startRedisServer, type SpawnedRedis } from '../../src/redis/spawn.js'
import { until as untilHolds } from './until.js'

/** until(), treating a harness connection that fails (server still starting) as "not yet". */
const until = (cond: () => Promise<boolean>, what: string): Promise<void> =>
  untilHolds(() => cond().catch(() => false), what)

interface TapLike { teardown: (fn: () => unknown) => void }

const NO_DISK = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']

export async function startRedis (t: TapLike, extraArgs: string[] = []): Promise<SpawnedRedis> {
  const redis = await startRedisServer(extraArgs)
  t.teardown(() => redis.stop())
  return redis
}

function tempDir (t: TapLike): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-redis-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A short-lived admin connection for the harness itself. */
async function withAdmin<T> (port: number, fn: (r: Redis) => Promise<T>, password?: string): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(password === undefined ? {} : { password }) })
  r.on('error', () => {})
  try {
    await r.connect()
    return await fn(r)
  } finally {
    r.disconnect()
  }
}

export interface SentinelSet {
  masterName: string
  master: SpawnedRedis
  replicas: SpawnedRedis[]
  sentinels: SpawnedRedis[]
  /** Celery's result_backend URL for this set: sentinel://127.0.0.1:p1;sentinel://127.0.0.1:p2;… */
  url: string
  /** Port of the master the sentinels currently agree on. */
  currentMasterPort: () => Promise<number>
}

interface SentinelOptions { replicas?: number, sentinels?: number, downAfterMs?: number, password?: string, sentinelPassword?: string }

/**
 * 1 master, 2 replicas, 3 sentinels (quorum 2), failing over one second after the master stops answering.
 * `password`: the data nodes require it (and replicate with it); `sentinelPassword`: the sentinels require it.
 */
export async function startSentinelSet (t: TapLike, { replicas = 2, sentinels = 3, downAfterMs = 1000, password, sentinelPassword }: SentinelOptions = {}): Promise<SentinelSet> {
  const dir = tempDir(t)
  const masterName = 'rgmaster'
  const auth = password === undefined ? [] : ['--requirepass', password, '--masterauth', password]
  const master = await startRedis(t, auth)
  const replicaList: SpawnedRedis[] = []
  for (let i = 0; i < replicas; i++) replicaList.push(await startRedis(t, ['--replicaof', '127.0.0.1', String(master.port), ...auth]))
  await until(() => withAdmin(master.port, async r => ((await r.info('replication')).match(/state=online/g) ?? []).length === replicas, password), 'replicas in sync with the master')
  const sentinelList: SpawnedRedis[] = []
  for (let i = 0; i < sentinels; i++) {
    const s = await onFreePort(port => {
      const conf = join(dir, `sentinel-${port}.conf`)
      writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 3000`,
        `sentinel parallel-syncs ${masterName} 2`,
        ...(password === undefined ? [] : [`sentinel auth-pass ${masterName} ${password}`]),
        ...(sentinelPassword === undefined ? [] : [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]), ''
      ].join('\n'))
      return spawnRedis('redis-sentinel', [conf], port)
    })
    t.teardown(() => s.stop())
    sentinelList.push(s)
  }
  // Ready for a failover only once every sentinel knows the replicas and the other sentinels.
  for (const s of sentinelList) {
    await until(() => withAdmin(s.port, async r => {
      const flat = await r.call('SENTINEL', 'MASTER', masterName) as string[]
      const info = Object.fromEntries(flat.flatMap((v, i) => i % 2 === 0 ? [[v, flat[i + 1]]] : []))
      return info['num-slaves'] === String(replicas) && info['num-other-sentinels'] === String(sentinels - 1)
    }, sentinelPassword), `sentinel ${s.port} sees ${replicas} replicas and ${sentinels - 1} other sentinels`)
  }
  return {
    masterName,
    master,
    replicas: replicaList,
    sentinels: sentinelList,
    url: sentinelList.map(s => `sentinel://127.0.0.1:${s.port}`).join(';'),
    currentMasterPort: () => withAdmin(sentinelList[0]?.port ?? 0, async r => {
      const [, port] = await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName) as [string, string]
      return Number(port)
    }, sentinelPassword)
  }
}

export interface TestCluster {
  nodes: SpawnedRedis[]
  /** host:port list for RG_REDIS_CLUSTER_NODES */
  seeds: string
  /** The node serving `slot` as master right now, asked of any live node. */
  masterPortFor: (slot: number) => Promise<number>
  clusterInfo: (port: number) => Promise<Record<string, string>>
  /** Starts a stopped node again with its own config file: it rejoins (a failed-over master as a replica). */
  restart: (port: number) => Promise<SpawnedRedis>
}

const execFileAsync = promisify(execFile)

/** 3 masters + 3 replicas on loopback, created with redis-cli --cluster create; node timeout 1 s; `password` on every node. */
export async function startCluster (t: TapLike, { password }: { password?: string } = {}): Promise<TestCluster> {
  const auth = password === undefined ? [] : ['--requirepass', password, '--masterauth', password]
  const dir = tempDir(t)
  const nodes: SpawnedRedis[] = []
  const argsOf = new Map<number, string[]>()
  for (let i = 0; i < 6; i++) {
    const node = await onFreePort(async port => {
      const busPort = await freePort()
      argsOf.set(port, ['--port', String(port), ...NO_DISK, '--cluster-enabled', 'yes',
        '--cluster-port', String(busPort), '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '1000',
        '--cluster-replica-validity-factor', '0', '--dir', dir, ...auth])
      return spawnRedis('redis-server', argsOf.get(port) ?? [], port)
    })
    t.teardown(() => node.stop())
    nodes.push(node)
  }
  try {
    await execFileAsync('redis-cli', [...(password === undefined ? [] : ['--no-auth-warning', '-a', password]), '--cluster', 'create', ...nodes.map(n => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('redis-cli not found: install it (apt-get install -y redis-tools)')
    throw err
  }
  const clusterInfo = (port: number): Promise<Record<string, string>> => withAdmin(port, async r => {
    const text = String(await r.call('CLUSTER', 'INFO'))
    return Object.fromEntries(text.split(/\r?\n/).filter(l => l.includes(':')).map(l => l.split(':') as [string, string]))
  }, password)
  for (const n of nodes) {
    await until(async () => (await clusterInfo(n.port)).cluster_state === 'ok', `node ${n.port} reports cluster_state:ok`)
  }
  // Every replica has finished its first sync, so a failover can promote it.
  for (const n of nodes) {
    await until(() => withAdmin(n.port, async r => {
      const info = await r.info('replication')
      return info.includes('role:master') || info.includes('master_link_status:up')
    }, password), `replica ${n.port} in sync`)
  }
  const live = (): SpawnedRedis[] => nodes.filter(n => n.process.exitCode === null && n.process.signalCode === null)
  return {
    nodes,
    seeds: nodes.slice(0, 3).map(n => `127.0.0.1:${n.port}`).join(','),
    clusterInfo,
    restart: async (port) => {
      const node = await spawnRedis('redis-server', argsOf.get(port) ?? [], port)
      t.teardown(() => node.stop())
      nodes[nodes.findIndex(n => n.port === port)] = node
      return node
    },
    masterPortFor: (slot) => withAdmin(live()[0]?.port ?? 0, async r => {
      const slots = await r.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
      const range = slots.find(([from, to]) => slot >= from && slot <= to)
      if (range === undefined) throw new Error(`no master for slot ${slot}`)
      return Number(range[2][1])
    }, password)
  }
}
