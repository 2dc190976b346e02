/** /v1/admin/webhooks: standing webhooks, called for every result that reaches a wanted state (admin scope). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { normalizeKeyPrefix } from '../../celery/keys.js'
import { WebhookNotFound } from '../../errors.js'
import { ref } from '../../schemas/common.js'
import { BODY_STATUSES, problems, V1_STATUSES } from '../../schemas/problem.js'
import { StandingWebhookListSchema, StandingWebhookRequestSchema, StandingWebhookSchema, WebhookNameParamsSchema } from '../../schemas/webhook.js'
import type { StandingCounters, StandingWebhook } from '../../webhooks/registrations.js'
import { displayUrl } from '../../webhooks/ssrf.js'
import { requireWebhooks, wantedStates, WEBHOOKS_OFF_NOTE } from './shared.js'
import { urlRefused } from './webhooks.js'

const ZERO: StandingCounters = { delivered: 0, failed: 0, pending: 0, cancelled: 0 }

function standingView (w: StandingWebhook, c: StandingCounters = ZERO) {
  return { name: w.name, url: displayUrl(w.url), keyPrefix: w.keyPrefix, states: w.states, createdAt: w.createdAt, delivered: c.delivered, failed: c.failed, pending: c.pending }
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  requireWebhooks(app)
  const errors = { ...problems(...V1_STATUSES), ...problems(501) }

  app.get('/admin/webhooks', {
    config: { scope: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'listStandingWebhooks',
      summary: 'List the standing webhooks with their counters',
      description: 'Each with delivered, failed and pending (queued or being retried) deliveries.' + WEBHOOKS_OFF_NOTE,
      response: { 200: ref(StandingWebhookListSchema), ...errors }
    }
  }, async () => {
    const all = await app.webhooks.registrations.listStanding()
    const counters = await app.webhooks.registrations.counters(all.map(w => w.name))
    return { webhooks: all.map(w => standingView(w, counters.get(w.name))) }
  })

  app.put('/admin/webhooks/:name', {
    config: { scope: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'putStandingWebhook',
      summary: 'Create or replace a standing webhook',
      description: 'Delivers every result under keyPrefix that reaches a wanted state from now on (every replica picks ' +
        'it up within 2 s). Results written while no gateway runs are not delivered (see docs/webhooks.md).' + WEBHOOKS_OFF_NOTE,
      params: WebhookNameParamsSchema,
      body: ref(StandingWebhookRequestSchema),
      response: { 200: ref(StandingWebhookSchema), ...problems(400, 422, ...BODY_STATUSES), ...errors }
    }
  }, async (req) => {
    const keyPrefix = normalizeKeyPrefix(req.body.keyPrefix ?? app.settings.redis.keyPrefix)
    const w = await app.webhooks.putStanding(req.params.name, req.body.url, keyPrefix, wantedStates(req.body.states)).catch(urlRefused)
    const counters = await app.webhooks.registrations.counters([w.name])
    return standingView(w, counters.get(w.name))
  })

  app.get('/admin/webhooks/:name', {
    config: { scope: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'getStandingWebhook',
      summary: 'Show one standing webhook with its counters',
      description: '404 when no standing webhook has that name.' + WEBHOOKS_OFF_NOTE,
      params: WebhookNameParamsSchema,
      response: { 200: ref(StandingWebhookSchema), ...problems(400, 404), ...errors }
    }
  }, async (req) => {
    const w = await app.webhooks.registrations.getStanding(req.params.name)
    if (w === null) throw new WebhookNotFound(`with the name ${req.params.name}`)
    const counters = await app.webhooks.registrations.counters([w.name])
    return standingView(w, counters.get(w.name))
  })

  app.delete('/admin/webhooks/:name', {
    config: { scope: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'deleteStandingWebhook',
      summary: 'Remove a standing webhook',
      description: 'Its queued deliveries are dropped. Idempotent: 204 either way.' + WEBHOOKS_OFF_NOTE,
      params: WebhookNameParamsSchema,
      response: { 204: Type.Null({ description: 'Removed, or none had that name' }), ...problems(400), ...errors }
    }
  }, async (req, reply) => {
    await app.webhooks.deleteStanding(req.params.name)
    return reply.code(204).send(null)
  })
}

export default routes
