/**
 * Kubernetes probes. /healthz: the event loop answers (never fails because Redis is down, to avoid restart
 * storms). /readyz: not draining, and Redis answers PING within the command timeout.
 */
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ShuttingDown } from '../errors.js'
import { checkReady } from '../redis/connect.js'
import { problemResponse } from '../schemas/problem.js'

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { draining: boolean }
  }
}

const StatusSchema = Type.Object({ status: Type.Literal('ok') })

export default fp(async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.decorate('lifecycle', { draining: false })
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
      summary: 'Readiness: Redis answers and the gateway is not shutting down',
      description: 'The Redis master answers PING within the command timeout (cluster: cluster_state:ok) and the ' +
        'gateway is not draining after SIGTERM; otherwise 503.',
      security: [],
      response: { 200: StatusSchema, 503: problemResponse }
    }
  }, async () => {
    if (app.lifecycle.draining) throw new ShuttingDown()
    await checkReady(app.redis)
    return { status: 'ok' as const }
  })
}, { name: 'health', dependencies: ['redis'] })
