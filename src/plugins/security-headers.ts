/**
 * Security headers (CSP, nosniff, frame options, HSTS …) on every answer, the docs UI included. helmet's
 * default policy is computed once at start and copied onto each reply: @fastify/helmet rebuilds helmet's
 * middleware on every request, which cost more CPU per fetch than reading the result from Redis.
 * The docs UI replaces the CSP with its own static one (see openapi.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
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

export default fp(async (app) => {
  const headers = Object.entries(securityHeaders())
  app.addHook('onRequest', (_req, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value)
    done()
  })
}, { name: 'security-headers' })
