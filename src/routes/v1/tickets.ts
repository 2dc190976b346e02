/** POST /v1/tickets: mints a stream ticket (src/auth/ticket.ts) for the calling token. HTTP only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { InvalidRequest } from '../../errors.js'
import { ref } from '../../schemas/common.js'
import { BODY_STATUSES, problems, V1_STATUSES } from '../../schemas/problem.js'
import { TicketRequestSchema, TicketResponseSchema } from '../../schemas/ticket.js'
import { TICKET_DEFAULT_TTL_SECONDS } from '../../auth/ticket-grant.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const maxIds = app.settings.batch.maxIds

  app.post('/tickets', {
    config: { scope: 'read' },
    schema: {
      tags: ['tickets'],
      operationId: 'createTicket',
      summary: 'Mint a short-lived read ticket for a browser\'s EventSource',
      description: 'A browser\'s EventSource cannot send Authorization, and a long-lived token in a URL ends up in ' +
        'logs and history. A backend holding the token mints a ticket here and hands it to the page, which passes ' +
        'it as `?ticket=` on the read routes (fetch, raw, wait, events, group fetch and wait) of exactly these ids. ' +
        'It carries the token\'s keyPrefix confinement; anything else with it is 403 ticket-not-allowed, and an ' +
        'expired, altered or forged one (or one whose token was removed or changed) 401 invalid-ticket. Stateless: ' +
        'any replica with the same RG_TICKET_SECRET (or RG_AUTH_TOKENS) accepts it. Not with Authorization too (400).',
      body: ref(TicketRequestSchema),
      response: { 200: ref(TicketResponseSchema), ...problems(400, ...BODY_STATUSES, ...V1_STATUSES) }
    }
  }, async (req) => {
    const taskIds = [...new Set(req.body.taskIds ?? [])]
    const groupIds = [...new Set(req.body.groupIds ?? [])]
    const total = taskIds.length + groupIds.length
    if (total === 0) throw new InvalidRequest('give at least one id in taskIds or groupIds')
    if (total > maxIds) throw new InvalidRequest(`a ticket lists at most ${maxIds} ids (RG_BATCH_MAX_IDS); got ${total}`)
    const principal = req.principal ?? { name: 'anonymous', keyPrefix: app.settings.redis.keyPrefix }
    return app.tickets.issue(principal, taskIds, groupIds, req.body.ttlSeconds ?? TICKET_DEFAULT_TTL_SECONDS)
  })
}

export default routes
