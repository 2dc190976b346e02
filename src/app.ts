/**
 * buildApp(config): the whole gateway as a Fastify instance, plugins registered in a fixed, explicit order:
 * error model → validation → load shedding → security headers → auth → OpenAPI → Redis → rate limit → metrics → domain → probes → routes.
 * No process.env, no listen, no exit here.
 */
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { PickleRefused } from './errors.js'
import { lazyChildLogger } from './lazy-logger.js'
import auth from './plugins/auth.js'
import celery from './plugins/celery.js'
import clusterMetrics from './plugins/cluster-metrics.js'
import health from './plugins/health.js'
import limits from './plugins/limits.js'
import metrics from './plugins/metrics.js'
import openapi from './plugins/openapi.js'
import problem from './plugins/problem.js'
import rateLimit from './plugins/rate-limit.js'
import redis from './plugins/redis.js'
import securityHeaders from './plugins/security-headers.js'
import batchV1 from './routes/v1/batch.js'
import eventsV1 from './routes/v1/events.js'
import groupsV1 from './routes/v1/groups.js'
import resultsV1 from './routes/v1/results.js'
import adminV1 from './routes/v1/admin.js'
import stats from './plugins/stats.js'
import validation from './plugins/validation.js'
import { allSchemas } from './schemas/index.js'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
}

export async function buildApp (config: Config, opts: BuildOptions = {}) {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutSeconds * 1000,
    http: { headersTimeout: config.http.headersTimeoutSeconds * 1000 },
    requestIdHeader: 'x-request-id',
    // req.log made on first use: a request that logs nothing at the configured level costs no pino child.
    childLoggerFactory: lazyChildLogger,
    // Clients send task ids in the path; keep router limits generous but bounded.
    routerOptions: { maxParamLength: 300 }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Bodies are JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain')
  // Celery's pickle serializer is never parsed; say so instead of a generic 415.
  app.addContentTypeParser(['application/x-python-serialize', 'application/python-pickle'], (req, _body, done) => {
    done(new PickleRefused(req.headers['content-type'] ?? 'pickle'), undefined)
  })

  await app.register(problem)
  await app.register(validation, { schemas: allSchemas })
  await app.register(limits, { config: config.load })
  await app.register(securityHeaders)
  await app.register(auth, { auth: config.auth, keyPrefix: config.redis.keyPrefix })
  // Before any route: @fastify/swagger documents the routes registered after it.
  await app.register(openapi)
  await app.register(redis, { config: config.redis })
  await app.register(rateLimit, { perMinute: config.http.rateLimitPerMinute, keyPrefix: config.redis.keyPrefix })
  // RG_WORKERS > 1: /metrics aggregates every worker's figures (a no-op outside a cluster worker).
  if (config.workers > 1) await app.register(clusterMetrics)
  await app.register(metrics)
  await app.register(celery, { config })
  await app.register(health)
  await app.register(stats)
  await app.register(resultsV1, { prefix: '/v1' })
  await app.register(batchV1, { prefix: '/v1' })
  await app.register(groupsV1, { prefix: '/v1' })
  await app.register(eventsV1, { prefix: '/v1' })
  await app.register(adminV1, { prefix: '/v1' })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
