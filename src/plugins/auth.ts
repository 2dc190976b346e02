/**
 * API tokens: `Authorization: Bearer <token>`, compared in constant time against every configured token,
 * scopes checked per route (`config.scope`; admin implies read and write), and a token's keyPrefix confining
 * it to one Celery app's keys. Probes, the API document and (by default) /metrics are public. A `?ticket=`
 * (src/auth/ticket.ts) stands in for a token on the read routes of the ids it lists, for clients that cannot send headers.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Scope } from '../auth/tokens.js'
import type { Config } from '../config.js'
import { Forbidden, InvalidTicket, Unauthenticated } from '../errors.js'
import { Tickets, ticketOf, type TicketParam } from '../auth/ticket-grant.js'
import { ticketKey } from '../auth/ticket.js'
import { isPublic } from './public-routes.js'

export interface Principal {
  name: string
  scopes: ReadonlySet<Scope>
  /** Celery global_keyprefix this caller is confined to. */
  keyPrefix: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a token needs for this route; routes without one need admin, unless public (public-routes.ts). */
    scope?: Scope
    /** This read route takes a `?ticket=` for the id in this parameter (src/auth/ticket-grant.ts). */
    ticket?: TicketParam
  }
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    tickets: Tickets
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export default fp<{ auth: Config['auth'], keyPrefix: string }>(async (app, { auth, keyPrefix }) => {
  const everything: ReadonlySet<Scope> = new Set(['read', 'write', 'admin'])
  const tokens = auth.tokens.map(t => ({
    hash: digest(t.token),
    principal: { name: t.name, scopes: new Set(t.scopes), keyPrefix: t.keyPrefix ?? keyPrefix }
  }))
  const anonymous: Principal = { name: 'anonymous', scopes: everything, keyPrefix }
  const readOnly: ReadonlySet<Scope> = new Set(['read'])
  // A ticket can only come from, and stand for, a token that reads.
  const issuers = new Map(tokens.filter(t => t.principal.scopes.has('read') || t.principal.scopes.has('admin'))
    .map(t => [t.principal.name, { name: t.principal.name, keyPrefix: t.principal.keyPrefix }]))
  app.decorate('tickets', new Tickets(ticketKey(auth.ticketSecret, auth.tokens), issuers))
  if (auth.disabled || tokens.length === 0) {
    app.log.warn('authentication is off (no RG_AUTH_TOKENS): every client can read and write every result')
  }

  /** Every token is compared (no early exit), each in constant time, so timing says nothing about them. */
  const identify = (presented: string): Principal | null => {
    const hash = digest(presented)
    let found: Principal | null = null
    for (const t of tokens) if (timingSafeEqual(hash, t.hash)) found = t.principal
    return found
  }

  app.decorateRequest('principal', null)
  // A callback hook, not an async one: no promise per request on the hot path.
  app.addHook('onRequest', (req, reply, done) => {
    if (auth.disabled || tokens.length === 0) {
      req.principal = anonymous
      done()
      return
    }
    if (isPublic(req)) {
      done()
      return
    }
    const ticket = ticketOf(req)
    if (ticket !== undefined) {
      const found = app.tickets.check(req, ticket)
      if (found instanceof Error) {
        if (found instanceof InvalidTicket) reply.header('www-authenticate', 'Bearer realm="result-gateway", error="invalid_token"')
        done(found)
        return
      }
      req.principal = { name: found.name, scopes: readOnly, keyPrefix: found.keyPrefix }
      done()
      return
    }
    const header = req.headers.authorization
    const m = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header)
    const principal = m?.[1] === undefined ? null : identify(m[1])
    if (principal === null) {
      reply.header('www-authenticate', 'Bearer realm="result-gateway"')
      done(new Unauthenticated(header === undefined ? 'No token' : 'Unknown or malformed token'))
      return
    }
    const needed = req.routeOptions.config.scope ?? 'admin'
    if (!principal.scopes.has(needed) && !principal.scopes.has('admin')) {
      done(new Forbidden(principal.name, needed))
      return
    }
    req.principal = principal
    done()
  })
}, { name: 'auth' })
