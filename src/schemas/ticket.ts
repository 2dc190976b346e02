/** POST /v1/tickets: a short-lived read grant for some task and group ids, for browsers' EventSource. */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TICKET_DEFAULT_TTL_SECONDS, TICKET_MAX_TTL_SECONDS } from '../auth/ticket-grant.js'
import { ref, TaskIdSchema } from './common.js'

const idList = (maxIds: number, what: string) => Type.Optional(Type.Array(ref(TaskIdSchema), {
  maxItems: maxIds, description: `${what}; with the other list at least 1 and at most ${maxIds} ids (RG_BATCH_MAX_IDS)`
}))

const ticketRequest = (maxIds: number) => Type.Object({
  taskIds: idList(maxIds, 'Task ids the ticket reads (fetch, raw, wait, events)'),
  groupIds: idList(maxIds, 'Group ids the ticket reads (group fetch and wait)'),
  ttlSeconds: Type.Optional(Type.Integer({
    minimum: 1, maximum: TICKET_MAX_TTL_SECONDS, default: TICKET_DEFAULT_TTL_SECONDS, description: `How long the ticket is valid (default ${TICKET_DEFAULT_TTL_SECONDS}, at most ${TICKET_MAX_TTL_SECONDS})`
  }))
}, { $id: 'TicketRequest', additionalProperties: false })

/** For types and `ref()` only; the registered schema comes from ticketSchemas(config). */
export const TicketRequestSchema = ticketRequest(10000)
export type TicketRequest = Static<typeof TicketRequestSchema>

export const TicketResponseSchema = Type.Object({
  ticket: Type.String({ description: 'Opaque; pass it as ?ticket= on the read routes of the ids it lists. Treat it as a secret' }),
  expiresAt: Type.String({ format: 'date-time', description: 'When it stops being accepted (RFC 3339, UTC)' })
}, { $id: 'TicketResponse' })

export const ticketSchemas = (maxIds: number): TSchema[] => [ticketRequest(maxIds), TicketResponseSchema]
