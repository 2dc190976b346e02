/**
 * Per-token rate limits (@fastify/rate-limit): counted per token name (per client IP when auth is off),
 * in Redis under the gateway's own prefix so every replica shares the count. Probes, metrics and the docs are
 * exempt. Over the limit: 429 rate-limited with Retry-After. Off when RG_RATE_LIMIT_PER_MINUTE is 0.
 */
import { createRequire } from 'node:module'
import fp from 'fastify-plugin'
import rateLimit, { type FastifyRateLimitOptions, type FastifyRateLimitStore } from '@fastify/rate-limit'
import { RateLimited } from '../errors.js'
import type { RedisClient } from '../redis/connect.js'
import { RedisDeadlineError } from '../redis/errors.js'

type Incr = (key: string, cb: (err: Error | null, result?: { current: number, ttl: number }) => void, ...rest: unknown[]) => void
interface InnerStore { incr: Incr, child: (routeOptions: unknown) => InnerStore }
type RedisStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, redis: RedisClient, key: string) => InnerStore
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore') as RedisStoreCtor

/**
 * How long the count may take before the request goes on uncounted (fail open, as skipOnError does for
 * errors). Without it a frozen Redis (or a Cluster queueing commands while it cannot authenticate) held every
 * request here before its own deadline even started: the answer came after 2 × RG_REDIS_COMMAND_TIMEOUT_MS,
 * or never. With it, a request answers within the command timeout + this budget.
 */
const COUNT_BUDGET_MS = 100

/** @fastify/rate-limit's own Redis store (its Lua script), each count bounded by COUNT_BUDGET_MS. */
function boundedStore (redis: RedisClient, nameSpace: string): new (o: FastifyRateLimitOptions) => FastifyRateLimitStore {
  const wrap = (inner: InnerStore): FastifyRateLimitStore => ({
    incr: ((key, cb, ...rest) => {
      let settled = false
      const timer = setTimeout(() => { settled = true; cb(new RedisDeadlineError(COUNT_BUDGET_MS)) }, COUNT_BUDGET_MS)
      inner.incr(key, (err, result) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err !== null) cb(err)
        else cb(null, result)
      }, ...rest)
    }) satisfies Incr,
    child: (routeOptions) => wrap(inner.child(routeOptions))
  })
  return class {
    constructor (o: FastifyRateLimitOptions) {
      // The plugin passes its resolved global parameters; these two are not in its published type.
      const p = o as { continueExceeding?: boolean, exponentialBackoff?: boolean }
      return wrap(new RedisStore(p.continueExceeding ?? false, p.exponentialBackoff ?? false, redis, nameSpace))
    }
  } as unknown as new (o: FastifyRateLimitOptions) => FastifyRateLimitStore
}

export default fp<{ perMinute: number, keyPrefix: string }>(async (app, { perMinute, keyPrefix }) => {
  if (perMinute === 0) return
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    store: boundedStore(app.redis, `${keyPrefix}result-gateway-rate-`),
    // A Redis outage already answers 503 on the data path; do not also refuse every request here.
    skipOnError: true,
    keyGenerator: (req) => req.principal !== null && req.principal.name !== 'anonymous' ? `token:${req.principal.name}` : `ip:${req.ip}`,
    allowList: (req) => {
      const config = req.routeOptions.config
      return config.public === true || config.exemptFromLoadShedding === true || (req.routeOptions.url ?? '/docs').startsWith('/docs')
    },
    errorResponseBuilder: (_req, context) => new RateLimited(`${context.max} per minute`, context.after)
  })
}, { name: 'rate-limit', dependencies: ['redis', 'auth'] })
