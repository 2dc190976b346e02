/**
 * Request ids: a client's X-Request-Id is kept when it is 1–128 characters of [A-Za-z0-9._:/=+-] (UUIDs,
 * W3C trace ids, base64 tokens); anything else — too long, empty, other bytes — is replaced, never refused,
 * by a random UUID, as is a missing one, so ids are unique across replicas. Every answer echoes the id in
 * X-Request-Id, and problem bodies carry it as `instance`.
 */
import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

const SAFE_ID = /^[A-Za-z0-9._:/=+-]{1,128}$/

/** Fastify's genReqId: the client's id when safe, otherwise a fresh UUID. */
export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID()
}

/**
 * Fastify's clientErrorHandler (requests Node could not parse: a malformed header line, headers too large or
 * too slow): the same answers as Fastify's default handler, plus an X-Request-Id like every other answer.
 * There is no request to take an id from, so it is always a fresh one. (#16 may turn the body into a problem.)
 */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'Client Timeout']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Exceeded maximum allowed HTTP header size'] : [400, 'Client Error']
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json\r\nX-Request-Id: ${randomUUID()}\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

export default fp(async (app) => {
  // onRequest runs for every request Fastify routes, the 404 handler included, before any error can occur.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id)
    done()
  })
}, { name: 'request-id' })
