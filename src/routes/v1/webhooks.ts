/**
 * /v1/results/{taskId}/webhook: register (replace), show and cancel a task's completion webhook (write scope,
 * confined to the token's key prefix like every write). HTTP only: the work is in src/webhooks.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { WebhookNotFound, WebhookUrlRefused } from '../../errors.js'
import { ref, TaskIdParamsSchema } from '../../schemas/common.js'
import { BODY_STATUSES, problems, V1_STATUSES } from '../../schemas/problem.js'
import { WebhookRequestSchema, WebhookSchema } from '../../schemas/webhook.js'
import type { TaskWebhook } from '../../webhooks/registrations.js'
import { displayUrl, WebhookUrlError } from '../../webhooks/ssrf.js'
import { requireWebhooks, wantedStates, WEBHOOKS_OFF_NOTE } from './shared.js'

/** A registration as the API shows it (the URL without its query string). */
export function webhookView (taskId: string, w: TaskWebhook) {
  return {
    taskId,
    url: displayUrl(w.url),
    states: w.states,
    status: w.status,
    attempts: w.attempts,
    webhookId: w.webhookId,
    lastStatusCode: w.lastStatusCode,
    lastAttemptAt: w.lastAttemptAt,
    lastError: w.lastError,
    deliveredAt: w.deliveredAt,
    createdAt: w.createdAt
  }
}

/** The SSRF guard's refusal as its 422 problem; anything else unchanged. */
export function urlRefused (err: unknown): never {
  throw err instanceof WebhookUrlError ? new WebhookUrlRefused(err.message) : err
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const prefixOf = (req: FastifyRequest): string => req.principal?.keyPrefix ?? app.settings.redis.keyPrefix
  requireWebhooks(app)
  const off = problems(501)

  app.put('/results/:taskId/webhook', {
    config: { scope: 'write' },
    schema: {
      tags: ['webhooks'],
      operationId: 'putResultWebhook',
      summary: 'Call a URL back when the task reaches a wanted state',
      description: 'Registers (or replaces) the task\'s webhook, kept in Redis with the result\'s TTL. The URL passes ' +
        'the SSRF guard (422 webhook-url-refused otherwise). A task already in a wanted state is delivered at once; ' +
        'later ones when the result is published (by a Celery worker or the gateway). See the `resultReady` webhook ' +
        'for what is sent.' + WEBHOOKS_OFF_NOTE,
      params: TaskIdParamsSchema,
      body: ref(WebhookRequestSchema),
      response: { 200: ref(WebhookSchema), ...problems(400, 422, ...BODY_STATUSES, ...V1_STATUSES), ...off }
    }
  }, async (req) => {
    const { taskId } = req.params
    const reg = await app.webhooks.registerTask(prefixOf(req), taskId, req.body.url, wantedStates(req.body.states)).catch(urlRefused)
    return webhookView(taskId, reg)
  })

  app.get('/results/:taskId/webhook', {
    config: { scope: 'write' },
    schema: {
      tags: ['webhooks'],
      operationId: 'getResultWebhook',
      summary: 'Show the task\'s webhook and its delivery',
      description: 'Status, attempts, and the last attempt\'s HTTP status and time. 404 when none is registered.' + WEBHOOKS_OFF_NOTE,
      params: TaskIdParamsSchema,
      response: { 200: ref(WebhookSchema), ...problems(400, 404, ...V1_STATUSES), ...off }
    }
  }, async (req) => {
    const { taskId } = req.params
    const reg = await app.webhooks.registrations.getTask(prefixOf(req), taskId)
    if (reg === null) throw new WebhookNotFound(`for task ${taskId}`)
    return webhookView(taskId, reg)
  })

  app.delete('/results/:taskId/webhook', {
    config: { scope: 'write' },
    schema: {
      tags: ['webhooks'],
      operationId: 'deleteResultWebhook',
      summary: 'Cancel the task\'s webhook',
      description: 'Deletes the registration; a delivery queued for it is dropped, one in flight finishes. Idempotent: 204 either way.' + WEBHOOKS_OFF_NOTE,
      params: TaskIdParamsSchema,
      response: { 204: Type.Null({ description: 'Cancelled, or none was registered' }), ...problems(400, ...V1_STATUSES), ...off }
    }
  }, async (req, reply) => {
    await app.webhooks.registrations.deleteTask(prefixOf(req), req.params.taskId)
    return reply.code(204).send(null)
  })
}

export default routes
