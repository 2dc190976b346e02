/**
 * Kubernetes probes. /healthz: the event loop answers (never fails because Redis is down, to avoid restart
 * storms). /readyz: not draining (plugins/lifecycle.ts), not shedding load (the same verdict API requests get), and Redis answers
 * PING within the command timeout (a Redis refusing only writes, at maxmemory or unable to persist, is ready).
 */
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Overloaded, ShuttingDown } from '../errors.js'
import { withDeadline } from '../redis/deadlines.js'
import { checkReady } from '../redis/connect.js'
import { replyRow } from '../redis/replies.js'
import { problemResponse } from '../schemas/problem.js'

const StatusSchema = Type.Object({ status: Type.Literal('ok') })

export default fp(async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/healthz', {
    config: { exemptFromLoadShedding: true, public: true },
    schema: {
      tags: ['probes'],
      operationId: 'getLiveness',
      summary: 'Liveness: the process is alive',
      description: 'Answers while the event loop runs; never checks Redis, so a Redis outage does not restart pods.',
      security: [],
      response: { 200: StatusSchema }
    }
  }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    config: { exemptFromLoadShedding: true, public: true },
    schema: {
      tags: ['probes'],
      operationId: 'getReadiness',
      summary: 'Readiness: Redis answers, the gateway is not shutting down and not shedding load',
      description: 'The Redis master answers PING within the command timeout (cluster: cluster_state:ok), the ' +
        'gateway is not draining after SIGTERM and not shedding load (the same verdict API requests get); otherwise 503.',
      security: [],
      response: { 200: StatusSchema, 503: problemResponse }
    }
  }, async () => {
    if (app.lifecycle.draining) throw new ShuttingDown()
    const overloaded = app.overloaded()
    if (overloaded !== undefined) throw new Overloaded(overloaded)
    // The same deadline as every request: a frozen Redis answers 503 in time, not after a stuck pipeline.
    // A Redis that refuses only writes (MISCONF refuses PING too) still serves reads: every replica shares
    // it, so failing readiness would take the reads down with the writes (docs/redis-errors.md).
    await withDeadline(checkReady(app.redis), app.settings.redis.commandTimeoutMs).catch((err: unknown) => {
      if (!(err instanceof Error && replyRow(err.message)?.writesOnly === true)) throw err
    })
    return { status: 'ok' as const }
  })
}, { name: 'health', dependencies: ['redis', 'celery', 'limits', 'lifecycle'] })
