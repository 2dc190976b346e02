/**
 * The gateway's configuration: one TypeBox schema whose keys are the env var names (the single source for
 * validation, the README table and the Helm chart), loaded by loadConfig(env) into a frozen nested Config.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { Value } from '@sinclair/typebox/value'
import { enumValues } from './config-hints.js'
import { parseEndpoints, parseRedisUrl, TopologyError, type ParsedUrl } from './redis/topology.js'

const Port = (description: string, def?: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, description, ...(def === undefined ? {} : { default: def }) })

export const ConfigSchema = Type.Object({
  RG_HTTP_HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 in containers)' }),
  RG_HTTP_PORT: Port('Port to listen on (0 = any free port)', 8080),
  RG_HTTP_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1048576, description: 'Largest accepted request body' }),
  RG_HTTP_REQUEST_TIMEOUT_SECONDS: Type.Integer({ minimum: 0, default: 120, description: 'Whole-request timeout (0 = none); must exceed RG_WAIT_MAX_SECONDS' }),
  RG_REDIS_URL: Type.Optional(Type.String({ minLength: 1, description: 'Redis URL as Celery\'s result_backend takes it: redis://[user:password@]host:port/db, rediss://…?ssl_cert_reqs=required&ssl_ca_certs=/ca.pem (TLS), unix:///path/to/socket?db=N, sentinel://:pw@h1:26379/0;sentinel://:pw@h2:26379 (with RG_REDIS_SENTINEL_MASTER). Secret: also RG_REDIS_URL_FILE.' })),
  RG_REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'ACL user (overrides the URL\'s)' })),
  RG_REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Password (overrides the URL\'s). Secret: also RG_REDIS_PASSWORD_FILE.' })),
  RG_REDIS_SENTINELS: Type.Optional(Type.String({ minLength: 1, description: 'Sentinel mode without a URL: comma-separated sentinel host:port list (port default 26379)' })),
  RG_REDIS_SENTINEL_MASTER: Type.Optional(Type.String({ minLength: 1, description: 'Sentinel master name (Celery\'s transport option master_name); required in Sentinel mode' })),
  RG_REDIS_SENTINEL_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'ACL user for the sentinels themselves (separate from the data user)' })),
  RG_REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Password of the sentinels themselves (Celery\'s sentinel_kwargs password; separate from the data password). Secret: also RG_REDIS_SENTINEL_PASSWORD_FILE.' })),
  RG_REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1, description: 'Cluster mode: comma-separated seed nodes host:port (port default 6379); the rest are discovered. Credentials from RG_REDIS_USERNAME / RG_REDIS_PASSWORD' })),
  RG_REDIS_TLS: Type.Boolean({ default: false, description: 'Use TLS without a rediss:// URL (Sentinel data connections, Cluster nodes, REDIS_HOST)' }),
  RG_REDIS_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA(s) that signed the Redis server certificate (default: the system store)' })),
  RG_REDIS_TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate, for mutual TLS' })),
  RG_REDIS_TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM client private key, for mutual TLS (a secret: read from the file, never logged)' })),
  RG_REDIS_TLS_SERVERNAME: Type.Optional(Type.String({ minLength: 1, description: 'Name the server certificate must carry (SNI and verification), when it differs from the host connected to' })),
  RG_REDIS_TLS_VERIFY: Type.Union([Type.Literal('required'), Type.Literal('none')], { default: 'required', description: 'Verify the server certificate (required) or not (none: testing only). The URL\'s ssl_cert_reqs=none also turns it off' }),
  RG_REDIS_DURABLE_REPLICAS: Type.Integer({ minimum: 0, maximum: 16, default: 0, description: 'Default number of replicas a store must reach (Redis WAIT) before it is acknowledged; a request\'s ?replicas= overrides it; 0 = off' }),
  RG_REDIS_DURABLE_TIMEOUT_MS: Type.Optional(Type.Integer({ minimum: 1, description: 'How long a durable store waits for its replicas before answering 503 not-replicated; below RG_REDIS_COMMAND_TIMEOUT_MS (default: half of it, at most 1000)' })),
  RG_REDIS_DURABLE_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Dedicated connections for durable stores (SET then WAIT on the same connection), so a WAIT never blocks the shared connection every other request uses; opened on the first durable store' }),
  RG_REDIS_DURABLE_QUEUE: Type.Integer({ minimum: 0, maximum: 10000, default: 100, description: 'Durable stores that may wait for a free dedicated connection (each at most RG_REDIS_COMMAND_TIMEOUT_MS); beyond it, or after that wait, 503 overloaded' }),
  REDIS_HOST: Type.Optional(Type.String({ minLength: 1, description: 'Seed-style host, read only when RG_REDIS_URL is unset' })),
  REDIS_PORT: Type.Optional(Port('Seed-style port, read only when RG_REDIS_URL is unset (default 6379)')),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Seed-style password, read only when RG_REDIS_URL is unset. Secret: also REDIS_PASSWORD_FILE.' })),
  REDIS_DB: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'Seed-style database number, read only when RG_REDIS_URL is unset (default 0)' })),
  RG_REDIS_KEY_PREFIX: Type.String({ default: '', pattern: '^[A-Za-z0-9_:.{}-]{0,64}$', description: 'Celery\'s global_keyprefix (result_backend_transport_options); "_" is appended unless it ends in one of :_-. as Celery 5.3+ does' }),
  RG_REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 2000, description: 'A Redis command slower than this fails the request with 503' }),
  RG_REDIS_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 5000, description: 'Timeout of one connection attempt' }),
  RG_RESULT_TTL_SECONDS: Type.Integer({ minimum: 0, default: 86400, description: 'Celery\'s result_expires: TTL of stored results; 0 = never expire' }),
  RG_RESULT_MAX_BYTES: Type.Optional(Type.Integer({ minimum: 1024, description: 'Largest size a compressed stored value (gzip/zlib, written by other tools) may inflate to; larger ones answer 422 undecodable-result. Default: RG_HTTP_BODY_LIMIT_BYTES' })),
  RG_RESULT_SERIALIZER: Type.Union([Type.Literal('json'), Type.Literal('msgpack')], { default: 'json', description: 'Celery\'s result_serializer used for writes (reads detect json and msgpack)' }),
  RG_WAIT_DEFAULT_SECONDS: Type.Number({ minimum: 0, default: 30, description: 'Wait timeout when the client gives none' }),
  RG_WAIT_MAX_SECONDS: Type.Number({ minimum: 0, default: 60, description: 'Longest wait a client may ask for' }),
  RG_WAIT_MAX_WAITERS: Type.Integer({ minimum: 1, default: 10000, description: 'Most concurrent waiters per process; past it, new waits get 503 too-many-waiters' }),
  RG_BATCH_MAX_IDS: Type.Integer({ minimum: 1, maximum: 10000, default: 1000, description: 'Most task ids in one batch read or batch wait' }),
  RG_WAIT_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, default: 5000, description: 'Safety-net re-read of waited keys, in case a PUBLISH is lost' }),
  RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Shed load (503 + Retry-After) while the event loop lags more than this; 0 = off' }),
  RG_LOAD_MAX_HEAP_USED_BYTES: Type.Integer({ minimum: 0, default: 0, description: 'Shed load while the V8 heap holds more than this; 0 = off' }),
  RG_LOAD_SAMPLE_INTERVAL_MS: Type.Integer({ minimum: 5, default: 1000, description: 'How often load is sampled for shedding' }),
  RG_SHUTDOWN_DRAIN_SECONDS: Type.Number({ minimum: 0, default: 5, description: 'After SIGTERM, how long /readyz answers 503 while the gateway still accepts and answers everything, so load balancers and kube-proxy stop routing to it first; 0 = close at once' }),
  RG_SHUTDOWN_GRACE_SECONDS: Type.Number({ minimum: 0, default: 10, description: 'After the drain, time allowed to finish in-flight requests before the process exits anyway' }),
  RG_WORKERS: Type.String({ default: '1', pattern: '^(auto|[1-9][0-9]?)$', description: 'Gateway processes on this host (node:cluster, sharing the HTTP port; /metrics aggregated across them): a number, or auto = the CPUs this process may use. Containers keep 1 and scale by pods' }),
  RG_AUTH_TOKENS: Type.Optional(Type.String({ minLength: 2, description: 'API tokens, a JSON array of {"name", "token" (≥ 16 characters), "scopes": ["read" | "write" | "admin"], "keyPrefix"? (confines the token to that Celery global_keyprefix)}. Secret: also RG_AUTH_TOKENS_FILE.' })),
  RG_AUTH_DISABLED: Type.Boolean({ default: false, description: 'Run without API tokens (logs a warning). Required when RG_AUTH_TOKENS is unset, except with the throwaway dev Redis' }),
  RG_METRICS_PUBLIC: Type.Boolean({ default: true, description: 'Serve /metrics without a token (otherwise the admin scope is needed)' }),
  RG_CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1, description: 'Comma-separated origins allowed by CORS; unset = CORS off' })),
  RG_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, default: 0, description: 'Requests per minute per token (per client IP without tokens), counted in Redis so replicas share it; 0 = off' }),
  RG_HTTP_HEADERS_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, default: 10, description: 'Time allowed to send the request headers, enforced within 0.5 s (slow-loris guard; no idle-socket timeout, which would cut long-polls)' }),
  RG_STATS_INTERVAL_SECONDS: Type.Integer({ minimum: 0, default: 300, description: 'How often result statistics (keys by state and TTL, Redis memory) are refreshed for /metrics, off the scrape path; 0 = off' }),
  RG_SCAN_BATCH: Type.Integer({ minimum: 10, maximum: 10000, default: 500, description: 'SCAN COUNT per call for statistics, the orphan sweep and the doctor' }),
  RG_SCAN_PAUSE_MS: Type.Integer({ minimum: 0, default: 10, description: 'Pause between SCAN calls, so Redis latency stays flat while a walk runs' }),
  RG_SCAN_MAX_KEYS: Type.Integer({ minimum: 1, default: 100000, description: 'Most keys one statistics run or one sweep request looks at (the sweep then returns a cursor to resume)' }),
  RG_LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info', description: 'pino log level' })
})
export type ConfigEnv = Static<typeof ConfigSchema>

/** Variables that may hold secrets: each also accepts `<NAME>_FILE`, and all are redacted from logs. */
export const SECRET_VARS = ['RG_REDIS_URL', 'RG_REDIS_PASSWORD', 'REDIS_PASSWORD', 'RG_REDIS_SENTINEL_PASSWORD', 'RG_AUTH_TOKENS'] as const

/** pino redact paths for everything that can carry a secret. */
export const REDACT_PATHS = [
  'config.redis.password', 'config.redis.sentinelPassword', 'config.redis.tls.key', 'sentinelPassword', 'redis.password', 'password', '*.password', '*.token',
  'req.headers.authorization', 'req.headers.cookie'
]

export const ScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')])
export type Scope = Static<typeof ScopeSchema>

/** One API token as RG_AUTH_TOKENS lists it. */
export const TokenSchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  token: Type.String({ minLength: 16, maxLength: 512 }),
  scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
  keyPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.{}-]{0,64}$' }))
}, { additionalProperties: false })
export type Token = Static<typeof TokenSchema>

function parseTokens (raw: string | undefined, problems: string[]): Token[] {
  if (raw === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    problems.push('RG_AUTH_TOKENS: not valid JSON (a JSON array of tokens)')
    return []
  }
  const ArraySchema = Type.Array(TokenSchema, { minItems: 1 })
  if (!Value.Check(ArraySchema, parsed)) {
    // Never echo the value: it holds the tokens.
    const first = Value.Errors(ArraySchema, parsed).First()
    problems.push(`RG_AUTH_TOKENS: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`.replace(/\s+/g, ' ').trim())
    return []
  }
  const names = new Set<string>()
  const secrets = new Set<string>()
  for (const t of parsed) {
    if (names.has(t.name)) problems.push(`RG_AUTH_TOKENS: duplicate token name ${t.name}`)
    if (secrets.has(t.token)) problems.push(`RG_AUTH_TOKENS: token ${t.name} reuses another token's secret`)
    names.add(t.name)
    secrets.add(t.token)
  }
  return parsed.map(t => t.keyPrefix === undefined ? t : { ...t, keyPrefix: normalizeKeyPrefix(t.keyPrefix) })
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Celery 5.3+: `global_keyprefix` gets `_` appended unless it already ends in one of `:_-.`. */
export function normalizeKeyPrefix (prefix: string): string {
  if (prefix === '' || /[:_\-.]$/.test(prefix)) return prefix
  return `${prefix}_`
}

function readSecretFiles (env: Record<string, string | undefined>, problems: string[]) {
  const out: Record<string, string | undefined> = { ...env }
  for (const name of SECRET_VARS) {
    const file = env[`${name}_FILE`]
    delete out[`${name}_FILE`]
    if (file === undefined || file === '') continue
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name} and ${name}_FILE are both set; keep one`)
      continue
    }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  // Empty variables count as unset, as in most twelve-factor tools.
  for (const [k, v] of Object.entries(out)) if (v === '') delete out[k]
  return out
}

export interface TlsSettings {
  ca?: string
  cert?: string
  key?: string
  servername?: string
  rejectUnauthorized: boolean
}

/** Where Redis is (null: nothing configured), the credentials and TLS, from URL and variables together. */
function resolveRedis (e: ConfigEnv, problems: string[]) {
  let parsed: ParsedUrl | null = null
  const sources = [e.RG_REDIS_URL, e.RG_REDIS_SENTINELS, e.RG_REDIS_CLUSTER_NODES].filter(v => v !== undefined)
  if (sources.length > 1) problems.push('set only one of RG_REDIS_URL, RG_REDIS_SENTINELS and RG_REDIS_CLUSTER_NODES')
  try {
    if (e.RG_REDIS_CLUSTER_NODES !== undefined) {
      parsed = { topology: { kind: 'cluster', nodes: parseEndpoints(e.RG_REDIS_CLUSTER_NODES, 6379, 'RG_REDIS_CLUSTER_NODES') } }
    } else if (e.RG_REDIS_SENTINELS !== undefined) {
      if (e.RG_REDIS_SENTINEL_MASTER === undefined) throw new TopologyError('Sentinel mode needs RG_REDIS_SENTINEL_MASTER (the master name)')
      const sentinels = parseEndpoints(e.RG_REDIS_SENTINELS, 26379, 'RG_REDIS_SENTINELS')
      parsed = { topology: { kind: 'sentinel', sentinels, masterName: e.RG_REDIS_SENTINEL_MASTER, db: e.REDIS_DB ?? 0 } }
    } else if (e.RG_REDIS_URL !== undefined) {
      parsed = parseRedisUrl(e.RG_REDIS_URL, e.RG_REDIS_SENTINEL_MASTER)
    } else if (e.REDIS_HOST !== undefined) {
      parsed = { topology: { kind: 'standalone', host: e.REDIS_HOST, port: e.REDIS_PORT ?? 6379, db: e.REDIS_DB ?? 0 } }
    }
  } catch (err) {
    const where = e.RG_REDIS_URL !== undefined && e.RG_REDIS_SENTINELS === undefined && e.RG_REDIS_CLUSTER_NODES === undefined ? 'RG_REDIS_URL: ' : ''
    problems.push(`${where}${(err as Error).message}`)
  }

  const urlTls = parsed?.tls
  const tlsOn = urlTls !== undefined || e.RG_REDIS_TLS
  const files = {
    ca: e.RG_REDIS_TLS_CA_FILE ?? urlTls?.caFile,
    cert: e.RG_REDIS_TLS_CERT_FILE ?? urlTls?.certFile,
    key: e.RG_REDIS_TLS_KEY_FILE ?? urlTls?.keyFile
  }
  let tls: TlsSettings | null = null
  if (tlsOn) {
    tls = { rejectUnauthorized: e.RG_REDIS_TLS_VERIFY === 'required' && urlTls?.verify !== false }
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
  } else if (Object.values(files).some(f => f !== undefined)) {
    problems.push('RG_REDIS_TLS_*_FILE is set but TLS is off: use a rediss:// URL or RG_REDIS_TLS=true')
  }
  if (parsed?.topology.kind === 'socket' && tlsOn) problems.push('TLS is not used over a unix socket: unset RG_REDIS_TLS')

  return {
    /** null: nothing configured (npm start then runs a throwaway redis-server). */
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

function toConfig (e: ConfigEnv, tokens: Token[], redis: ReturnType<typeof resolveRedis>) {
  return {
    auth: {
      tokens,
      disabled: e.RG_AUTH_DISABLED,
      metricsPublic: e.RG_METRICS_PUBLIC,
      corsOrigins: e.RG_CORS_ORIGINS === undefined ? [] : e.RG_CORS_ORIGINS.split(',').map(o => o.trim()).filter(o => o !== '')
    },
    http: {
      host: e.RG_HTTP_HOST,
      port: e.RG_HTTP_PORT,
      bodyLimitBytes: e.RG_HTTP_BODY_LIMIT_BYTES,
      requestTimeoutSeconds: e.RG_HTTP_REQUEST_TIMEOUT_SECONDS,
      headersTimeoutSeconds: e.RG_HTTP_HEADERS_TIMEOUT_SECONDS,
      rateLimitPerMinute: e.RG_RATE_LIMIT_PER_MINUTE
    },
    redis: {
      ...redis,
      durable: {
        replicas: e.RG_REDIS_DURABLE_REPLICAS,
        timeoutMs: e.RG_REDIS_DURABLE_TIMEOUT_MS ?? Math.min(1000, Math.floor(e.RG_REDIS_COMMAND_TIMEOUT_MS / 2)),
        connections: e.RG_REDIS_DURABLE_CONNECTIONS,
        queue: e.RG_REDIS_DURABLE_QUEUE
      },
      keyPrefix: normalizeKeyPrefix(e.RG_REDIS_KEY_PREFIX),
      commandTimeoutMs: e.RG_REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: e.RG_REDIS_CONNECT_TIMEOUT_MS
    },
    results: {
      ttlSeconds: e.RG_RESULT_TTL_SECONDS,
      serializer: e.RG_RESULT_SERIALIZER,
      // What the gateway itself would accept in a body is a fair bound for what a stored value inflates to.
      maxBytes: e.RG_RESULT_MAX_BYTES ?? e.RG_HTTP_BODY_LIMIT_BYTES
    },
    wait: {
      defaultSeconds: e.RG_WAIT_DEFAULT_SECONDS,
      maxSeconds: e.RG_WAIT_MAX_SECONDS,
      pollIntervalMs: e.RG_WAIT_POLL_INTERVAL_MS,
      maxWaiters: e.RG_WAIT_MAX_WAITERS
    },
    batch: { maxIds: e.RG_BATCH_MAX_IDS },
    load: {
      maxEventLoopDelayMs: e.RG_LOAD_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: e.RG_LOAD_MAX_HEAP_USED_BYTES,
      sampleIntervalMs: e.RG_LOAD_SAMPLE_INTERVAL_MS
    },
    shutdown: { drainSeconds: e.RG_SHUTDOWN_DRAIN_SECONDS, graceSeconds: e.RG_SHUTDOWN_GRACE_SECONDS },
    workers: e.RG_WORKERS === 'auto' ? availableParallelism() : Number(e.RG_WORKERS),
    ops: {
      statsIntervalSeconds: e.RG_STATS_INTERVAL_SECONDS,
      scanBatch: e.RG_SCAN_BATCH,
      scanPauseMs: e.RG_SCAN_PAUSE_MS,
      scanMaxKeys: e.RG_SCAN_MAX_KEYS
    },
    log: { level: e.RG_LOG_LEVEL }
  }
}

export type Config = ReturnType<typeof toConfig>

/** Deep-frozen configuration; throws one ConfigError listing every problem. */
export function loadConfig (env: Record<string, string | undefined>): Config {
  const problems: string[] = []
  const data = readSecretFiles(env, problems)
  let parsed: ConfigEnv | undefined
  try {
    parsed = envSchema<ConfigEnv>({ schema: structuredClone(ConfigSchema), data, env: false })
  } catch (err) {
    const ajvErrors = (err as { errors?: Array<{ instancePath: string, message?: string, params?: { missingProperty?: string } }> }).errors ?? []
    for (const a of ajvErrors) {
      const name = a.instancePath.replace(/^\//, '') || (a.params?.missingProperty ?? '(env)')
      const shown = SECRET_VARS.includes(name as typeof SECRET_VARS[number]) ? '' : ` (got ${JSON.stringify(data[name])})`
      // An enum is a union of literals: Ajv reports each alternative; say it once, with the choices.
      const choices = enumValues(name)
      const line = choices === null ? `${name}: ${a.message ?? 'invalid'}${shown}` : `${name}: must be one of ${choices.join(', ')}${shown}`
      if (!problems.includes(line)) problems.push(line)
    }
    if (ajvErrors.length === 0) problems.push((err as Error).message)
  }
  if (parsed !== undefined && parsed.RG_WAIT_DEFAULT_SECONDS > parsed.RG_WAIT_MAX_SECONDS) {
    problems.push('RG_WAIT_DEFAULT_SECONDS must not exceed RG_WAIT_MAX_SECONDS')
  }
  if (parsed !== undefined && parsed.RG_HTTP_REQUEST_TIMEOUT_SECONDS !== 0 &&
    parsed.RG_HTTP_REQUEST_TIMEOUT_SECONDS <= parsed.RG_WAIT_MAX_SECONDS) {
    problems.push('RG_HTTP_REQUEST_TIMEOUT_SECONDS must exceed RG_WAIT_MAX_SECONDS (or be 0), or long waits are cut off')
  }
  if (parsed?.RG_REDIS_DURABLE_TIMEOUT_MS !== undefined && parsed.RG_REDIS_DURABLE_TIMEOUT_MS >= parsed.RG_REDIS_COMMAND_TIMEOUT_MS) {
    problems.push('RG_REDIS_DURABLE_TIMEOUT_MS must be less than RG_REDIS_COMMAND_TIMEOUT_MS (Redis WAIT runs under the command timeout)')
  }
  const redis = parsed === undefined ? undefined : resolveRedis(parsed, problems)
  if (parsed !== undefined && parsed.RG_WORKERS !== '1' && redis !== undefined && redis.topology === null) {
    problems.push('RG_WORKERS above 1 needs a configured Redis (RG_REDIS_URL or REDIS_HOST): the throwaway dev Redis is for one process')
  }
  const tokens = parseTokens(parsed?.RG_AUTH_TOKENS, problems)
  if (parsed !== undefined && tokens.length === 0 && !parsed.RG_AUTH_DISABLED && redis !== undefined && redis.topology !== null) {
    problems.push('RG_AUTH_TOKENS is unset: configure API tokens, or set RG_AUTH_DISABLED=true to run without authentication')
  }
  if (problems.length > 0 || parsed === undefined || redis === undefined) throw new ConfigError(problems)
  return deepFreeze(toConfig(parsed, tokens, redis))
}

function deepFreeze<T> (o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
