/**
 * Request ids: a client's X-Request-Id is kept when it is 1–128 characters of [A-Za-z0-9._:/=+-] (UUIDs,
 * W3C trace ids, base64 tokens); anything else — too long, empty, other bytes — is replaced, never refused,
 * by a random UUID, as is a missing one, so ids are unique across replicas. Every answer echoes the id in
 * X-Request-Id, and problem bodies carry it as `instance`.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'

const SAFE_ID = /^[A-Za-z0-9._:/=+-]{1,128}$/

/** A fresh id, for requests that bring none (or an unsafe one) and for errors met before a request exists. */
export function newRequestId (): string {
  return randomUUID()
}

/** Fastify's genReqId: the client's id when safe, otherwise a fresh one. */
export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SAFE_ID.test(given) ? given : newRequestId()
}

export default fp(async (app) => {
  // onRequest runs for every request Fastify routes, the 404 handler included, before any error can occur.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id)
    done()
  })
}, { name: 'request-id' })
