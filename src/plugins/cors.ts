/**
 * CORS (@fastify/cors) for the whole API, off unless RG_CORS_ORIGINS lists origins: a page on one of those
 * origins may call every route with every method the API has, send the headers its features need (tokens,
 * conditional reads, SSE resumption, tracing) and read the headers that carry meaning (ETag, request id,
 * Retry-After, caching, rate limits). No credentials mode: the API takes bearer tokens or tickets, never cookies.
 * Registered before auth and load shedding, so their refusals carry the grant too (a page can read a 401).
 */
import cors from '@fastify/cors'
import fp from 'fastify-plugin'

/** What a cross-origin page may send: the token, JSON bodies, conditional reads, SSE resumption, W3C tracing. */
export const CORS_ALLOWED_HEADERS = [
  'authorization', 'content-type', 'if-none-match', 'last-event-id', 'x-request-id', 'traceparent', 'tracestate', 'baggage'
] as const

/** What a cross-origin page may read beyond the CORS-safelisted ones (content-type and a few others). */
export const CORS_EXPOSED_HEADERS = [
  'etag', 'x-request-id', 'retry-after', 'cache-control', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'
] as const

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const

/** How long a browser may cache a preflight's verdict. */
const PREFLIGHT_MAX_AGE_SECONDS = 600

export default fp<{ origins: readonly string[] }>(async (app, { origins }) => {
  if (origins.length === 0) return
  await app.register(cors, {
    origin: [...origins],
    methods: [...CORS_METHODS],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: [...CORS_EXPOSED_HEADERS],
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS
  })
}, { name: 'cors' })
