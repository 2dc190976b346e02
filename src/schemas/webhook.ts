/** Webhooks: per-task and standing registrations, their delivery status, and the event a receiver gets. */
import { Type, type Static } from '@sinclair/typebox'
import { Nullable, ref } from './common.js'
import { ResultViewSchema, StateSchema } from './result.js'

const UrlSchema = Type.String({
  format: 'uri',
  minLength: 8,
  maxLength: 2048,
  description: 'Where the gateway POSTs the event: https (http only for hosts in RG_WEBHOOK_ALLOWED_HOSTS), no ' +
    'credentials; its host must resolve to public addresses unless allow-listed (checked now and before each attempt)',
  examples: ['https://hooks.example.com/celery']
})

const StatesSchema = Type.Array(ref(StateSchema), {
  minItems: 1,
  maxItems: 32,
  // No uniqueItems (Ajv checks it pairwise, #15.5): a state given twice counts once (the routes de-duplicate).
  description: 'States that trigger a delivery (a state given twice counts once); default the ready states SUCCESS, FAILURE and REVOKED'
})

export const WebhookRequestSchema = Type.Object({
  url: UrlSchema,
  states: Type.Optional(StatesSchema)
}, { $id: 'WebhookRequest', additionalProperties: false, description: 'A per-task webhook (replaces any earlier one)' })
export type WebhookRequest = Static<typeof WebhookRequestSchema>

export const DeliveryStatusSchema = Type.Union(
  ['pending', 'delivering', 'delivered', 'failed', 'cancelled'].map(s => Type.Literal(s)), {
    $id: 'WebhookDeliveryStatus',
    description: 'pending: waiting for a wanted state; delivering: queued or being retried; delivered: a 2xx answered; ' +
      'failed: RG_WEBHOOK_MAX_ATTEMPTS attempts failed; cancelled: the receiver answered 410 Gone'
  })

export const WebhookSchema = Type.Object({
  taskId: Type.String(),
  url: Type.String({ description: 'The URL, without its query string (it may hold a receiver\'s token)' }),
  states: Type.Array(Type.String()),
  status: ref(DeliveryStatusSchema),
  attempts: Type.Integer({ minimum: 0 }),
  webhookId: Nullable(Type.String({ description: 'The webhook-id header of the delivery, once queued' })),
  lastStatusCode: Nullable(Type.Integer({ description: 'HTTP status of the last attempt (null: none, or no answer)' })),
  lastAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  lastError: Nullable(Type.String({ description: 'Why the last attempt failed: http_error, redirect, timeout, connection_error, or the SSRF refusal' })),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' })
}, { $id: 'Webhook', description: 'A per-task webhook and its delivery' })

export const WebhookNameParamsSchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Name of the standing webhook' })
})

export const StandingWebhookRequestSchema = Type.Object({
  url: UrlSchema,
  keyPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.{}-]{0,64}$', description: 'Celery global_keyprefix whose results it receives (normalized as RG_REDIS_KEY_PREFIX); default the gateway\'s' })),
  states: Type.Optional(StatesSchema)
}, { $id: 'StandingWebhookRequest', additionalProperties: false, description: 'A webhook for every result under a key prefix' })
export type StandingWebhookRequest = Static<typeof StandingWebhookRequestSchema>

export const StandingWebhookSchema = Type.Object({
  name: Type.String(),
  url: Type.String({ description: 'The URL, without its query string' }),
  keyPrefix: Type.String(),
  states: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  delivered: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  pending: Type.Integer({ minimum: 0, description: 'Deliveries queued or being retried' })
}, { $id: 'StandingWebhook', description: 'A standing webhook and its counters' })

export const StandingWebhookListSchema = Type.Object({
  webhooks: Type.Array(ref(StandingWebhookSchema))
}, { $id: 'StandingWebhookList' })

export const WebhookEventSchema = Type.Object({
  type: Type.Literal('result.ready'),
  timestamp: Type.String({ format: 'date-time', description: 'When the gateway saw the state (RFC 3339); the same on every retry' }),
  data: ref(ResultViewSchema)
}, {
  $id: 'WebhookEvent',
  description: 'The body of every delivery (Standard Webhooks). Headers: webhook-id (stable per subscription, task and ' +
    'state: de-duplicate on it), webhook-timestamp (Unix seconds of this attempt), webhook-signature ' +
    '(v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">, space-separated when several secrets sign)'
})

export const webhookSchemas = [WebhookRequestSchema, DeliveryStatusSchema, WebhookSchema, StandingWebhookRequestSchema,
  StandingWebhookSchema, StandingWebhookListSchema, WebhookEventSchema]
