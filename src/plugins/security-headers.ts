/**
 * Security headers. Every answer says `X-Content-Type-Options: nosniff`: a browser never second-guesses a JSON
 * or problem+json body into HTML or script. helmet's whole set (CSP, frame options, HSTS, COOP/CORP …) is for
 * documents a browser renders, so it goes on the docs UI (/docs and its assets) only; on a JSON API it was
 * twelve headers (~680 bytes, ≈7 µs) on every answer for no effect. helmet's default policy is computed once at
 * start: @fastify/helmet rebuilds helmet's middleware on every request. The docs UI replaces the CSP with its
 * own static one (see openapi.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'

/** The headers helmet's defaults set, recorded from one run of its middleware against a recorder. */
export function securityHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => { if (err !== undefined) throw err })
  return headers
}

/** Routes that serve the docs UI, which a browser renders: they get helmet's whole set. */
export const isDocsRoute = (url: string): boolean => url === '/docs' || url.startsWith('/docs/')

export default fp(async (app) => {
  const headers = Object.entries(securityHeaders())
  const all: onRequestHookHandler = (_req, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value)
    done()
  }
  // Every answer, 404s and errors included.
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('x-content-type-options', 'nosniff')
    done()
  })
  // The docs routes are registered later (openapi.ts): give each its own hook as it is added.
  app.addHook('onRoute', (route) => {
    if (!isDocsRoute(route.url)) return
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [all, ...own]
  })
}, { name: 'security-headers' })
