/**
 * Tickets at the HTTP edge: where a request's `?ticket=` is read, what a ticket lets through (GET/HEAD of a
 * route that names `config.ticket`, for an id the ticket lists) and the principal it stands for (its token's
 * name and keyPrefix, read scope only). Used by plugins/auth.ts; minted by routes/v1/tickets.ts; the tokens it stands for come from auth/tokens.ts.
 */
import type { FastifyRequest } from 'fastify'
import { InvalidRequest, InvalidTicket, TicketNotAllowed } from '../errors.js'
import { mintTicket, TicketError, verifyTicket, type IdKind } from './ticket.js'

/** The route parameter that holds the id a ticket must list; its name says the id's kind. */
export type TicketParam = 'taskId' | 'groupId'

export interface TicketPrincipal { name: string, keyPrefix: string }

const KIND: Record<TicketParam, IdKind> = { taskId: 'task', groupId: 'group' }

/** Longest and default life of a ticket: long enough to open a stream, short enough for a URL in a history. */
export const TICKET_MAX_TTL_SECONDS = 300
export const TICKET_DEFAULT_TTL_SECONDS = 60

/** The `ticket` query parameter, or undefined when there is none (a repeated one is a string array). */
export function ticketOf (req: FastifyRequest): unknown {
  const q = req.query
  return q !== null && typeof q === 'object' && 'ticket' in q ? (q as { ticket: unknown }).ticket : undefined
}

/** A URL with every `ticket=` query value censored, for log lines. */
export function redactTicket (url: string): string {
  const q = url.indexOf('?')
  if (q < 0 || !/ticket|%/i.test(url.slice(q))) return url
  // Each parameter name decoded as the query parser decodes it, so `%74icket=` is caught too.
  const name = (pair: string): string => {
    const raw = pair.split('=', 1)[0] ?? ''
    try { return decodeURIComponent(raw.replace(/\+/g, ' ')) } catch { return raw }
  }
  const pairs = url.slice(q + 1).split('&').map(p => name(p) === 'ticket' ? `${p.split('=', 1)[0] ?? ''}=[redacted]` : p)
  return `${url.slice(0, q)}?${pairs.join('&')}`
}

export class Tickets {
  readonly #key: Buffer
  readonly #issuers: ReadonlyMap<string, TicketPrincipal>

  /** issuers: every token that may hold tickets (has read or admin), by name. */
  constructor (key: Buffer, issuers: ReadonlyMap<string, TicketPrincipal>) {
    this.#key = key
    this.#issuers = issuers
  }

  issue (by: TicketPrincipal, taskIds: readonly string[], groupIds: readonly string[], ttlSeconds: number, now = Date.now()): { ticket: string, expiresAt: string } {
    const expiresAt = Math.floor(now / 1000) + ttlSeconds
    const ticket = mintTicket(this.#key, { tokenName: by.name, keyPrefix: by.keyPrefix, taskIds, groupIds, expiresAt })
    return { ticket, expiresAt: new Date(expiresAt * 1000).toISOString() }
  }

  /**
   * The principal a ticket stands for on this request, or the coded error to answer with: 400 both credentials,
   * 401 malformed/forged/expired/its token gone, 403 not a ticket route or an id it does not list.
   */
  check (req: FastifyRequest, ticket: unknown): TicketPrincipal | Error {
    if (req.headers.authorization !== undefined) return new InvalidRequest('send either Authorization or ?ticket=, not both')
    if (typeof ticket !== 'string') return new InvalidTicket('malformed ticket (give ?ticket= once)')
    let verified
    try {
      verified = verifyTicket(this.#key, ticket, name => this.#issuers.get(name)?.keyPrefix, Math.floor(Date.now() / 1000))
    } catch (err) {
      if (err instanceof TicketError) return new InvalidTicket(err.message)
      throw err
    }
    const param = req.routeOptions.config.ticket
    if (param === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return new TicketNotAllowed(`${req.method} ${req.routeOptions.url ?? 'this route'} does not take a ticket`)
    }
    const id = (req.params as Record<string, unknown>)[param]
    if (typeof id !== 'string' || !verified.allows(KIND[param], id)) {
      return new TicketNotAllowed(`this ticket was not issued for ${KIND[param]} ${typeof id === 'string' ? id : '?'}`)
    }
    // verifyTicket has already refused an unknown issuer.
    return this.#issuers.get(verified.tokenName) as TicketPrincipal
  }
}
