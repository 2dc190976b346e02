/**
 * Per-token rate limits (@fastify/rate-limit): counted per token name (per client IP when auth is off),
 * in Redis under the gateway's own prefix so every replica shares the count. Probes, metrics and the docs are
 * exempt. Over the limit: 429 rate-limited with Retry-After. Off when RG_RATE_LIMIT_PER_MINUTE is 0.
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { RateLimited } from '../errors.js'

export default fp<{ perMinute: number, keyPrefix: string }>(async (app, { perMinute, keyPrefix }) => {
  if (perMinute === 0) return
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    redis: app.redis,
    nameSpace: `${keyPrefix}result-gateway-rate-`,
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
