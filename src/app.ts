/**
 * buildApp(config): the whole gateway as a Fastify instance, plugins registered in a fixed, explicit order:
 * error model → lifecycle → security headers → CORS → validation → load shedding → auth → compression → OpenAPI → Redis → rate limit → metrics → domain → answer cache → webhooks → probes
 * No process.env, no listen, no exit here.
 */
import Fastify, { type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { PickleRefused } from './errors.js'
import { lazyChildLogger } from './logging/lazy-logger.js'
import { serializeError } from './logging/serialize-error.js'
import { redactTicket } from './auth/ticket-grant.js'
import answerCache from './plugins/answer-cache.js'
import auth from './plugins/auth.js'
import celery from './plugins/celery.js'
import compress from './plugins/compress.js'
import cors from './plugins/cors.js'
import clusterMetrics from './plugins/cluster-metrics.js'
import health from './plugins/health.js'
import jsonBody from './plugins/json-body.js'
import lifecycle from './plugins/lifecycle.js'
import limits from './plugins/limits.js'
import metrics from './plugins/metrics.js'
import openapi from './plugins/openapi.js'
import problem, { clientErrorHandler, frameworkErrors } from './plugins/problem.js'
import rateLimit from './plugins/rate-limit.js'
import redis from './plugins/redis.js'
import redisMetrics from './plugins/redis-metrics.js'
import requestIdPlugin, { requestId } from './plugins/request-id.js'
import securityHeaders from './plugins/security-headers.js'
import batchV1 from './routes/v1/batch.js'
import eventsV1 from './routes/v1/events.js'
import groupsV1 from './routes/v1/groups.js'
import resultsV1 from './routes/v1/results.js'
import adminV1 from './routes/v1/admin.js'
import ticketsV1 from './routes/v1/tickets.js'
import adminWebhooksV1 from './routes/v1/admin-webhooks.js'
import webhooksV1 from './routes/v1/webhooks.js'
import webhooks from './plugins/webhooks.js'
import stats from './plugins/stats.js'
import validation from './plugins/validation.js'
import { schemasFor } from './schemas/index.js'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
}

/**
 * Any `err` that reaches a log line by a path of Fastify's own goes through the one serializer too: pino's
 * default would log every enumerable property (an ioredis error's command arguments: a password, a document).
 */
function withErrSerializer (logger: BuildOptions['logger']): boolean | Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  if (typeof logger !== 'object' || logger === null) return logger ?? false
  // Fastify's type wants a stack; ours is kept only where it helps (unexpected errors).
  // Already-serialized objects (our own log calls) pass through untouched.
  const err = (e: unknown): { type: string, message: string, stack: string } =>
    e instanceof Error ? { stack: '', ...serializeError(e) } : e as { type: string, message: string, stack: string }
  return { ...logger, serializers: { ...logger.serializers, err, req: requestLine } }
}

/** Fastify's own request serializer, with a ticket in the query string censored: a ticket is a credential. */
function requestLine (req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactTicket(req.url),
    version: req.headers['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket.remotePort
  }
}

export async function buildApp (config: Config, opts: BuildOptions = {}) {
  const app = Fastify({
    logger: withErrSerializer(opts.logger),
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutSeconds * 1000,
    // Node enforces headersTimeout only when it sweeps connections, every connectionsCheckingInterval (30 s by
    // default): a slow-loris client then lived 30 s, not RG_HTTP_HEADERS_TIMEOUT_SECONDS. A 500 ms sweep holds
    // the timeout to within half a second; each sweep only walks the open connections' timestamps.
    http: { headersTimeout: config.http.headersTimeoutSeconds * 1000, connectionsCheckingInterval: 500 },
    // X-Request-Id is read by genReqId, which bounds it (plugins/request-id.ts); Fastify's own reading takes any value.
    requestIdHeader: false,
    genReqId: requestId,
    // req.log made on first use: a request that logs nothing at the configured level costs no pino child.
    childLoggerFactory: lazyChildLogger,
    // Clients send task ids in the path; keep router limits generous but bounded.
    routerOptions: { maxParamLength: 300 },
    // Errors met before a route or a request exists still answer in the one problem+json model, with the
    // X-Request-Id every answer carries.
    frameworkErrors,
    clientErrorHandler
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Bodies are JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain')
  // Celery's pickle serializer is never parsed; say so instead of a generic 415.
  app.addContentTypeParser(['application/x-python-serialize', 'application/python-pickle'], (req, _body, done) => {
    done(new PickleRefused(req.headers['content-type'] ?? 'pickle'), undefined)
  })

  await app.register(problem)
  // First: its preClose (closing = true) runs before the celery plugin's answers to waiters.
  await app.register(lifecycle)
  await app.register(requestIdPlugin)
  await app.register(jsonBody)
  await app.register(securityHeaders)
  // Before load shedding and auth: their refusals are answers a cross-origin page must be able to read.
  await app.register(cors, { origins: config.auth.corsOrigins })
  // Schemas are built once, here, with the configured limits in them (batch sizes: refused before per-item work).
  const schemas = schemasFor({ batchMaxIds: config.batch.maxIds })
  await app.register(validation, { schemas })
  await app.register(limits, { config: config.load })
  await app.register(auth, { auth: config.auth, keyPrefix: config.redis.keyPrefix })
  // Before any route (the API document's too): it adds its onSend to each route as the route is registered.
  await app.register(compress, { thresholdBytes: config.http.compressThresholdBytes })
  // Before any route: @fastify/swagger documents the routes registered after it.
  await app.register(openapi, { schemas })
  await app.register(redis, { config: config.redis })
  await app.register(rateLimit, { perMinute: config.http.rateLimitPerMinute, keyPrefix: config.redis.keyPrefix })
  // RG_WORKERS > 1: /metrics aggregates every worker's figures (a no-op outside a cluster worker).
  if (config.workers > 1) await app.register(clusterMetrics)
  await app.register(metrics, { config })
  await app.register(redisMetrics)
  await app.register(celery, { config })
  await app.register(answerCache, { config })
  await app.register(webhooks, { config })
  await app.register(health)
  await app.register(stats)
  await app.register(resultsV1, { prefix: '/v1' })
  await app.register(batchV1, { prefix: '/v1' })
  await app.register(groupsV1, { prefix: '/v1' })
  await app.register(eventsV1, { prefix: '/v1' })
  await app.register(adminV1, { prefix: '/v1' })
  await app.register(ticketsV1, { prefix: '/v1' })
  await app.register(webhooksV1, { prefix: '/v1' })
  await app.register(adminWebhooksV1, { prefix: '/v1' })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
