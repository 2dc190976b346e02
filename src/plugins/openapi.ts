/**
 * The OpenAPI document, generated from the route schemas: shared TypeBox schemas become components,
 * served at /openapi.json with a docs UI at /docs. openapi.yaml is written from the same source.
 */
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
// eslint-disable-next-line camelcase -- the library's own type name
import swagger, { type OpenAPIV3_2 } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_METHODS } from './cors.js'
import { markPublic } from './public-routes.js'

export const API_VERSION = '0.1.0'

/**
 * The docs UI in a context of its own: public, and the one thing a browser renders, so helmet's whole set
 * (CSP, frame options, HSTS, COOP/CORP …) goes on its answers only; a JSON API answer only needs nosniff
 * (security-headers.ts), and the twelve headers were a measurable share of each request.
 */
async function docsUi (docs: FastifyInstance): Promise<void> {
  markPublic(docs)
  await docs.register(helmet)
  // The UI serves its scripts with its own static CSP, replacing helmet's default one.
  await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
}

/** What the gateway sends to a webhook URL (OpenAPI 3.1 `webhooks`): routes cannot describe it, so it is written here. */
// eslint-disable-next-line camelcase -- the library's own type name
const WEBHOOKS: Record<string, OpenAPIV3_2.PathItemObject> = {
  resultReady: {
    post: {
      tags: ['webhooks'],
      operationId: 'resultReady',
      summary: 'A result reached a wanted state',
      description: 'Sent to a per-task or standing webhook\'s URL, signed per Standard Webhooks (see docs/webhooks.md for ' +
        'verification). Retried with exponential backoff on anything but a 2xx, up to RG_WEBHOOK_MAX_ATTEMPTS; 410 Gone ' +
        'cancels the subscription; redirects are not followed.',
      security: [],
      parameters: [
        { name: 'webhook-id', in: 'header', required: true, description: 'Stable per subscription, task and state; the same on every retry', schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', required: true, description: 'Unix seconds of this attempt', schema: { type: 'string', pattern: '^[0-9]+$' } },
        { name: 'webhook-signature', in: 'header', required: true, description: 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated per secret', schema: { type: 'string' } }
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookEvent' } } } },
      responses: {
        200: { description: 'Any 2xx: delivered' },
        410: { description: 'Gone: cancels the subscription' },
        default: { description: 'Anything else (and a timeout): retried' }
      }
    }
  }
}

export default fp<{ schemas: TSchema[] }>(async (app, { schemas }) => {
  for (const s of schemas) app.addSchema(s)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'result-gateway',
        version: API_VERSION,
        description: 'HTTP front door to Celery task results kept in Redis. Errors are application/problem+json (RFC 9457). ' +
          'Operation ids are stable within /v1 (see docs/api.md, "API stability"). ' +
          `Browsers (CORS, when RG_CORS_ORIGINS lists the page's origin; no credentials mode): a page may send ${CORS_METHODS.join(', ')} ` +
          `with the headers ${CORS_ALLOWED_HEADERS.join(', ')}, and may read ${CORS_EXPOSED_HEADERS.join(', ')} besides the CORS-safelisted ones ` +
          '(Content-Type, Content-Length …), on every answer: problems, 304s and event streams included. EventSource cannot send ' +
          'Authorization: mint a ticket (POST /v1/tickets) and pass it as ?ticket= (see docs/browsers.md).',
        // Who answers for the API; no public address is promised here, so none is invented.
        contact: { name: 'result-gateway maintainers' },
        license: { name: 'MIT', identifier: 'MIT' }
      },
      // Where the gateway listens by default (RG_HTTP_HOST:RG_HTTP_PORT); clients pass their own base URL.
      servers: [{ url: 'http://127.0.0.1:8080', description: 'A local gateway with the default RG_HTTP_HOST and RG_HTTP_PORT' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token from RG_AUTH_TOKENS' },
          ticket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'A short-lived read ticket from POST /v1/tickets, on the read routes of the ids it lists (for EventSource, which cannot send Authorization)' }
        }
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'results', description: 'Store, fetch, wait for, expire and forget Celery task results' },
        { name: 'groups', description: 'Progress of Celery groups and chords' },
        { name: 'probes', description: 'Kubernetes liveness and readiness' },
        { name: 'tickets', description: 'Short-lived read tickets for browsers (EventSource)' },
        { name: 'admin', description: 'Operator endpoints: statistics, the orphan sweep and the doctor (admin scope)' },
        { name: 'webhooks', description: 'Completion webhooks: per-task (write scope) and standing (admin scope); see docs/webhooks.md' }
      ],
      webhooks: WEBHOOKS
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    }
  })
  await app.register(docsUi)
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
