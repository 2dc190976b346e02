/**
 * Every answer, 404s and errors included, says `X-Content-Type-Options: nosniff`: a browser never
 * second-guesses a JSON or problem+json body into HTML or script. The docs UI, which a browser renders, also
 * gets helmet's whole set, from @fastify/helmet in its own context (openapi.ts).
 */
import fp from 'fastify-plugin'

export default fp(async (app) => {
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('x-content-type-options', 'nosniff')
    done()
  })
}, { name: 'security-headers' })
