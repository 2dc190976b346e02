/**
 * Which requests are public: the one `public` route flag and the one predicate that auth and the rate limiter
 * ask. A route says `config: { public: true }` (probes, /openapi.json, /metrics when RG_METRICS_PUBLIC), or a
 * whole context is marked with markPublic (the docs UI); a request no route matched is public too (the 404
 * handler answers it, naming no resource).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No token needed, and not rate-limited. */
    public?: boolean
  }
}

export function isPublic (req: FastifyRequest): boolean {
  return req.routeOptions.url === undefined || req.routeOptions.config.public === true
}

/** Every route registered in `context` (and its children) from now on is public. */
export function markPublic (context: FastifyInstance): void {
  context.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true }
  })
}
