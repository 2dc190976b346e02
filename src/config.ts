/**
 * The gateway's configuration: one TypeBox schema whose keys are the env var names (the single source for
 * validation, the README table and the Helm chart), loaded by loadConfig(env) into a frozen nested Config.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Type, type Static } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { parseTokens, type Token } from './auth/tokens.js'
import { normalizeKeyPrefix } from './celery/keys.js'
import { resolveRedisLocation, type RedisLocation, type RedisSettings } from './redis/settings.js'
import { parseSecrets } from './webhooks/signing.js'
import { parseAllowList } from './webhooks/ssrf.js'
import type { WebhookSettings } from './webhooks/settings.js'

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
  RG_CACHE_MAX_BYTES: Type.Integer({ minimum: 0, default: 67108864, description: 'Answer cache (Redis server-assisted client-side caching, docs/cache.md): most bytes of finished answers kept per process, least recently used out first; 0 = off. Off in Cluster mode' }),
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
  RG_TICKET_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'Key (≥ 32 characters, the same on every replica) that signs stream tickets (POST /v1/tickets); unset = derived from RG_AUTH_TOKENS, so changing any token invalidates outstanding tickets. Secret: also RG_TICKET_SECRET_FILE.' })),
  RG_COMPRESS_THRESHOLD_BYTES: Type.Integer({ minimum: 0, default: 1024, description: 'JSON answers at least this large are compressed (br, gzip) when the client sends Accept-Encoding; 0 = compression off. Never event streams' }),
  RG_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, default: 0, description: 'Requests per minute per token (per client IP without tokens), counted in Redis so replicas share it; 0 = off' }),
  RG_HTTP_HEADERS_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, default: 10, description: 'Time allowed to send the request headers, enforced within 0.5 s (slow-loris guard; no idle-socket timeout, which would cut long-polls)' }),
  RG_STATS_INTERVAL_SECONDS: Type.Integer({ minimum: 0, default: 300, description: 'How often result statistics (keys by state and TTL, Redis memory) are refreshed for /metrics, off the scrape path; 0 = off' }),
  RG_SCAN_BATCH: Type.Integer({ minimum: 10, maximum: 10000, default: 500, description: 'SCAN COUNT per call for statistics, the orphan sweep and the doctor' }),
  RG_SCAN_PAUSE_MS: Type.Integer({ minimum: 0, default: 10, description: 'Pause between SCAN calls, so Redis latency stays flat while a walk runs' }),
  RG_SCAN_MAX_KEYS: Type.Integer({ minimum: 1, default: 100000, description: 'Most keys one statistics run or one sweep request looks at (the sweep then returns a cursor to resume)' }),
  RG_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'Signing secret of webhooks, whsec_ + base64 of at least 16 random bytes (Standard Webhooks); several separated by spaces or commas sign with each (rotation). Webhooks are off while unset. Secret: also RG_WEBHOOK_SECRET_FILE.' })),
  RG_WEBHOOK_ALLOWED_HOSTS: Type.Optional(Type.String({ minLength: 1, description: 'Comma-separated hosts or host:port a webhook may reach although they resolve to loopback, private, link-local or other non-public addresses (and over plain http); unset = public https only' })),
  RG_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000, description: 'Time one delivery attempt may take, connect to response headers; slower is retried' }),
  RG_WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 10, default: 1000, description: 'First retry delay; each further one doubles, with full jitter, up to RG_WEBHOOK_RETRY_MAX_MS' }),
  RG_WEBHOOK_RETRY_MAX_MS: Type.Integer({ minimum: 10, default: 600000, description: 'Longest delay between two attempts' }),
  RG_WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Attempts per delivery before it is marked failed' }),
  RG_WEBHOOK_VISIBILITY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30000, description: 'A delivery held this long by a replica that stopped renewing it (killed, frozen) is taken over by another; must exceed RG_WEBHOOK_TIMEOUT_MS' }),
  RG_WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10000, default: 64, description: 'Deliveries one replica makes at once, all targets together' }),
  RG_WEBHOOK_CONCURRENCY_PER_TARGET: Type.Integer({ minimum: 1, maximum: 1000, default: 4, description: 'Deliveries one replica makes at once to one host:port, so one slow receiver cannot hold the others' }),
  RG_LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info', description: 'pino log level' })
})
export type ConfigEnv = Static<typeof ConfigSchema>

/** The allowed values when `name` is an enum (a union of literals) in ConfigSchema, else null. */
export function enumValues (name: string): string[] | null {
  const schema = (ConfigSchema.properties as Record<string, { anyOf?: Array<{ const?: unknown }> }>)[name]
  const values = schema?.anyOf?.map(s => s.const)
  return values !== undefined && values.every(v => typeof v === 'string') ? values as string[] : null
}

/** Variables that may hold secrets: each also accepts `<NAME>_FILE`, and all are redacted from logs. */
export const SECRET_VARS = ['RG_REDIS_URL', 'RG_REDIS_PASSWORD', 'REDIS_PASSWORD', 'RG_REDIS_SENTINEL_PASSWORD', 'RG_AUTH_TOKENS', 'RG_TICKET_SECRET', 'RG_WEBHOOK_SECRET'] as const

/** pino redact paths for everything that can carry a secret. */
export const REDACT_PATHS = [
  'config.redis.password', 'config.redis.sentinelPassword', 'config.redis.tls.key', 'config.webhooks.secret', 'sentinelPassword', 'redis.password', 'password', '*.password', '*.token',
  'req.headers.authorization', 'req.headers.cookie', 'config.auth.ticketSecret', '*.ticketSecret'
]

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
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

function toConfig (e: ConfigEnv, tokens: Token[], location: RedisLocation) {
  const redis: RedisSettings = {
    ...location,
    durable: {
      replicas: e.RG_REDIS_DURABLE_REPLICAS,
      timeoutMs: e.RG_REDIS_DURABLE_TIMEOUT_MS ?? Math.min(1000, Math.floor(e.RG_REDIS_COMMAND_TIMEOUT_MS / 2)),
      connections: e.RG_REDIS_DURABLE_CONNECTIONS,
      queue: e.RG_REDIS_DURABLE_QUEUE
    },
    keyPrefix: normalizeKeyPrefix(e.RG_REDIS_KEY_PREFIX),
    commandTimeoutMs: e.RG_REDIS_COMMAND_TIMEOUT_MS,
    connectTimeoutMs: e.RG_REDIS_CONNECT_TIMEOUT_MS
  }
  return {
    auth: {
      tokens,
      disabled: e.RG_AUTH_DISABLED,
      metricsPublic: e.RG_METRICS_PUBLIC,
      ticketSecret: e.RG_TICKET_SECRET ?? null,
      corsOrigins: e.RG_CORS_ORIGINS === undefined ? [] : e.RG_CORS_ORIGINS.split(',').map(o => o.trim()).filter(o => o !== '')
    },
    http: {
      host: e.RG_HTTP_HOST,
      port: e.RG_HTTP_PORT,
      bodyLimitBytes: e.RG_HTTP_BODY_LIMIT_BYTES,
      requestTimeoutSeconds: e.RG_HTTP_REQUEST_TIMEOUT_SECONDS,
      headersTimeoutSeconds: e.RG_HTTP_HEADERS_TIMEOUT_SECONDS,
      rateLimitPerMinute: e.RG_RATE_LIMIT_PER_MINUTE,
      compressThresholdBytes: e.RG_COMPRESS_THRESHOLD_BYTES
    },
    redis,
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
    cache: { maxBytes: e.RG_CACHE_MAX_BYTES },
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
    webhooks: webhookSettings(e),
    log: { level: e.RG_LOG_LEVEL }
  }
}

function webhookSettings (e: ConfigEnv): WebhookSettings {
  return {
    secret: e.RG_WEBHOOK_SECRET ?? null,
    allowedHosts: parseAllowList(e.RG_WEBHOOK_ALLOWED_HOSTS),
    timeoutMs: e.RG_WEBHOOK_TIMEOUT_MS,
    retryBaseMs: e.RG_WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: e.RG_WEBHOOK_RETRY_MAX_MS,
    maxAttempts: e.RG_WEBHOOK_MAX_ATTEMPTS,
    visibilityTimeoutMs: e.RG_WEBHOOK_VISIBILITY_TIMEOUT_MS,
    concurrency: e.RG_WEBHOOK_CONCURRENCY,
    concurrencyPerTarget: e.RG_WEBHOOK_CONCURRENCY_PER_TARGET
  }
}

function checkWebhooks (e: ConfigEnv, problems: string[]): void {
  if (e.RG_WEBHOOK_SECRET !== undefined) {
    try {
      parseSecrets(e.RG_WEBHOOK_SECRET)
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  if (e.RG_WEBHOOK_VISIBILITY_TIMEOUT_MS <= e.RG_WEBHOOK_TIMEOUT_MS) {
    problems.push('RG_WEBHOOK_VISIBILITY_TIMEOUT_MS must exceed RG_WEBHOOK_TIMEOUT_MS, or deliveries still in flight are taken over')
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
  const redis = parsed === undefined ? undefined : resolveRedisLocation(parsed, problems)
  if (parsed !== undefined) checkWebhooks(parsed, problems)
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
