/**
 * The Redis layer's settings, owned here so connect.ts, durable-pool.ts, preflight.ts and the doctor never
 * import from the config file above them: where Redis is (from a Celery-style URL or the RG_REDIS_*
 * variables), the credentials and TLS (PEM files read and checked: parseable, unexpired, a usable key).
 * config.ts validates the env against its one schema and maps it into RedisSettings with resolveRedisLocation.
 */
import { readFileSync } from 'node:fs'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { parseEndpoints, parseRedisUrl, TopologyError, type ParsedUrl, type Topology } from './topology.js'

export interface TlsSettings {
  ca?: string
  cert?: string
  key?: string
  servername?: string
  rejectUnauthorized: boolean
}

/** Where Redis is and who the gateway is to it. */
export interface RedisLocation {
  /** null: nothing configured (npm start then runs a throwaway redis-server). */
  topology: Topology | null
  tls: TlsSettings | null
  username: string | null
  password: string | null
  sentinelUsername: string | null
  sentinelPassword: string | null
}

export interface RedisSettings extends RedisLocation {
  /** Durable stores: SET then WAIT on a dedicated connection (see durable-pool.ts). */
  durable: { replicas: number, timeoutMs: number, connections: number, queue: number }
  /** Celery's global_keyprefix, normalized (see celery/keys.ts normalizeKeyPrefix). */
  keyPrefix: string
  commandTimeoutMs: number
  connectTimeoutMs: number
}

/**
 * The variables resolveRedisLocation reads, by their env names. config.ts's ConfigSchema is their one
 * definition: its parsed env is passed here, so the compiler holds the two in step.
 */
export interface RedisEnv {
  RG_REDIS_URL?: string | undefined
  RG_REDIS_USERNAME?: string | undefined
  RG_REDIS_PASSWORD?: string | undefined
  RG_REDIS_SENTINELS?: string | undefined
  RG_REDIS_SENTINEL_MASTER?: string | undefined
  RG_REDIS_SENTINEL_USERNAME?: string | undefined
  RG_REDIS_SENTINEL_PASSWORD?: string | undefined
  RG_REDIS_CLUSTER_NODES?: string | undefined
  RG_REDIS_TLS: boolean
  RG_REDIS_TLS_CA_FILE?: string | undefined
  RG_REDIS_TLS_CERT_FILE?: string | undefined
  RG_REDIS_TLS_KEY_FILE?: string | undefined
  RG_REDIS_TLS_SERVERNAME?: string | undefined
  RG_REDIS_TLS_VERIFY: 'required' | 'none'
  REDIS_HOST?: string | undefined
  REDIS_PORT?: number | undefined
  REDIS_PASSWORD?: string | undefined
  REDIS_DB?: number | undefined
}

/** The URL, sentinel list, cluster seeds or seed-style host, whichever is set (null: none); problems collected. */
function parseTopology (e: RedisEnv, problems: string[]): ParsedUrl | null {
  const sources = [e.RG_REDIS_URL, e.RG_REDIS_SENTINELS, e.RG_REDIS_CLUSTER_NODES].filter(v => v !== undefined)
  if (sources.length > 1) problems.push('set only one of RG_REDIS_URL, RG_REDIS_SENTINELS and RG_REDIS_CLUSTER_NODES')
  try {
    if (e.RG_REDIS_CLUSTER_NODES !== undefined) {
      return { topology: { kind: 'cluster', nodes: parseEndpoints(e.RG_REDIS_CLUSTER_NODES, 6379, 'RG_REDIS_CLUSTER_NODES') } }
    } else if (e.RG_REDIS_SENTINELS !== undefined) {
      if (e.RG_REDIS_SENTINEL_MASTER === undefined) throw new TopologyError('Sentinel mode needs RG_REDIS_SENTINEL_MASTER (the master name)')
      const sentinels = parseEndpoints(e.RG_REDIS_SENTINELS, 26379, 'RG_REDIS_SENTINELS')
      return { topology: { kind: 'sentinel', sentinels, masterName: e.RG_REDIS_SENTINEL_MASTER, db: e.REDIS_DB ?? 0 } }
    } else if (e.RG_REDIS_URL !== undefined) {
      return parseRedisUrl(e.RG_REDIS_URL, e.RG_REDIS_SENTINEL_MASTER)
    } else if (e.REDIS_HOST !== undefined) {
      return { topology: { kind: 'standalone', host: e.REDIS_HOST, port: e.REDIS_PORT ?? 6379, db: e.REDIS_DB ?? 0 } }
    }
  } catch (err) {
    const where = e.RG_REDIS_URL !== undefined && e.RG_REDIS_SENTINELS === undefined && e.RG_REDIS_CLUSTER_NODES === undefined ? 'RG_REDIS_URL: ' : ''
    problems.push(`${where}${(err as Error).message}`)
  }
  return null
}

/** TLS from the URL (rediss://, ssl_* query) and the RG_REDIS_TLS_* variables; PEM files read and checked. */
function resolveTls (e: RedisEnv, parsed: ParsedUrl | null, problems: string[]): TlsSettings | null {
  const urlTls = parsed?.tls
  const tlsOn = urlTls !== undefined || e.RG_REDIS_TLS
  const files = {
    ca: e.RG_REDIS_TLS_CA_FILE ?? urlTls?.caFile,
    cert: e.RG_REDIS_TLS_CERT_FILE ?? urlTls?.certFile,
    key: e.RG_REDIS_TLS_KEY_FILE ?? urlTls?.keyFile
  }
  if (!tlsOn) {
    if (Object.values(files).some(f => f !== undefined)) {
      problems.push('RG_REDIS_TLS_*_FILE is set but TLS is off: use a rediss:// URL or RG_REDIS_TLS=true')
    }
    return null
  }
  const tls: TlsSettings = { rejectUnauthorized: e.RG_REDIS_TLS_VERIFY === 'required' && urlTls?.verify !== false }
  for (const [field, file] of Object.entries(files) as Array<[keyof typeof files, string | undefined]>) {
    if (file === undefined) continue
    const name = `RG_REDIS_TLS_${field.toUpperCase()}_FILE`
    try {
      tls[field] = readFileSync(file, 'utf8')
    } catch (err) {
      problems.push(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
      continue
    }
    const problem = field === 'key' ? checkKey(tls[field]) : checkCertificates(tls[field] ?? '')
    if (problem !== null) problems.push(`${name}: ${file} ${problem}`)
  }
  if ((tls.cert === undefined) !== (tls.key === undefined) && problems.length === 0) {
    problems.push('mutual TLS needs both RG_REDIS_TLS_CERT_FILE and RG_REDIS_TLS_KEY_FILE')
  }
  if (e.RG_REDIS_TLS_SERVERNAME !== undefined) tls.servername = e.RG_REDIS_TLS_SERVERNAME
  return tls
}

/** Where Redis is (null: nothing configured), the credentials and TLS, from URL and variables together. */
export function resolveRedisLocation (e: RedisEnv, problems: string[]): RedisLocation {
  const parsed = parseTopology(e, problems)
  const tls = resolveTls(e, parsed, problems)
  if (parsed?.topology.kind === 'socket' && tls !== null) problems.push('TLS is not used over a unix socket: unset RG_REDIS_TLS')
  return {
    topology: parsed?.topology ?? null,
    tls,
    username: e.RG_REDIS_USERNAME ?? parsed?.username ?? null,
    password: e.RG_REDIS_PASSWORD ?? parsed?.password ?? (e.RG_REDIS_URL === undefined ? e.REDIS_PASSWORD ?? null : null),
    sentinelUsername: e.RG_REDIS_SENTINEL_USERNAME ?? null,
    sentinelPassword: e.RG_REDIS_SENTINEL_PASSWORD ?? null
  }
}

/** null when the PEM holds at least one certificate and none has expired or is not yet valid. */
function checkCertificates (pem: string): string | null {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) return 'holds no PEM certificate'
  const now = Date.now()
  for (const block of blocks) {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(block)
    } catch {
      return 'holds a certificate that cannot be parsed'
    }
    if (Date.parse(cert.validTo) < now) return `holds a certificate that expired on ${cert.validTo} (${cert.subject.replace(/\n/g, ', ')})`
    if (Date.parse(cert.validFrom) > now) return `holds a certificate not valid before ${cert.validFrom}`
  }
  return null
}

function checkKey (pem: string | undefined): string | null {
  try {
    createPrivateKey(pem ?? '')
    return null
  } catch {
    return 'holds no readable (unencrypted PEM) private key'
  }
}
