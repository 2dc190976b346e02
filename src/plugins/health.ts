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
  // While draining, answers say Connection: close, so kept-alive clients (proxies' upstream pools) reconnect
  // through the Service, which soon routes elsewhere, and never reuse a socket the close would cut.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (app.lifecycle.draining) reply.header('connection', 'close')
    done(null, payload)
  })
  app.get('/healthz', {
    config: { exemptFromLoadShedding: true, public: true },
    schema: { tags: ['probes'], summary: 'Liveness: the process is alive', security: [], response: { 200: StatusSchema } }
  }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    config: { exemptFromLoadShedding: true, public: true },
    schema: {
      tags: ['probes'],
      summary: 'Readiness: the Redis master answers PING (cluster: cluster_state:ok) and the gateway is not shutting down',
      security: [],
      response: { 200: StatusSchema, 503: problemResponse }
    }
  }, async () => {
    if (app.lifecycle.draining) throw new ShuttingDown()
    await checkReady(app.redis)
    return { status: 'ok' as const }
  })
}, { name: 'health', dependencies: ['redis'] })
