/**
 * The gateway's shutdown state, in one place: `draining` from SIGTERM until the drain is over (set by
 * shutdown.ts; /readyz answers 503), `closing` once app.close() has begun (set here, before the celery
 * plugin answers the waiters). In either, every answer says Connection: close.
 */
import fp from 'fastify-plugin'

export interface Lifecycle {
  /** After SIGTERM: not ready any more, everything else still served. */
  draining: boolean
  closing: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

export default fp(async (app) => {
  const state: Lifecycle = { draining: false, closing: false }
  app.decorate('lifecycle', state)
  // Registered before the celery plugin: its preClose answers the waiters, and those answers must already
  // say Connection: close.
  app.addHook('preClose', (done) => {
    state.closing = true
    done()
  })
  // While draining, answers say Connection: close, so kept-alive clients (proxies' upstream pools) reconnect
  // through the Service, which soon routes elsewhere, and never reuse a socket the close would cut. Once
  // closing, too: the server only closes connections that are idle when it starts closing, and a waiter's
  // connection turns idle just after its answer, so it would otherwise linger for the keep-alive timeout.
  // (One hook for both: each onSend hook is a step on every answer.)
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (state.draining || state.closing) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'lifecycle' })
