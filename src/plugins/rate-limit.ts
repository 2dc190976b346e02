/**
 * Per-token rate limits (@fastify/rate-limit): counted per token name (per client IP when auth is off),
 * in Redis under the gateway's own prefix (celery/keys.ts) so every replica shares the count. Public requests
 * (public-routes.ts) and probes/metrics are exempt. Over the limit: 429 rate-limited with Retry-After. Off when
 * RG_RATE_LIMIT_PER_MINUTE is 0.
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { rateLimitNamespace } from '../celery/keys.js'
import { RateLimited } from '../errors.js'
import { isPublic } from './public-routes.js'

export default fp<{ perMinute: number, keyPrefix: string }>(async (app, { perMinute, keyPrefix }) => {
  if (perMinute === 0) return
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // The plugin's own Redis store (its Lua script), on a connection of its own whose commands time out after
    // RATE_LIMIT_BUDGET_MS (redis/connect.ts): a count that cannot be made in time lets the request through.
    redis: app.redisRateLimit,
    nameSpace: rateLimitNamespace(keyPrefix),
    // A Redis outage already answers 503 on the data path; do not also refuse every request here.
    skipOnError: true,
    keyGenerator: (req) => req.principal !== null && req.principal.name !== 'anonymous' ? `token:${req.principal.name}` : `ip:${req.ip}`,
    allowList: (req) => isPublic(req) || req.routeOptions.config.exemptFromLoadShedding === true,
    errorResponseBuilder: (_req, context) => new RateLimited(`${context.max} per minute`, context.after)
  })
}, { name: 'rate-limit', dependencies: ['redis', 'auth'] })
