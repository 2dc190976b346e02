/**
 * The one place errors become HTTP answers: every 4xx/5xx leaves as application/problem+json (RFC 9457) with
 * a code from src/errors.ts — route errors, Fastify's framework errors (bad URL, param too long: see
 * `frameworkErrors`), errors of Node's HTTP parser (`clientErrorHandler`), 404 and 405 + Allow.
 * Redis trouble is 503 + Retry-After (by the reply table, src/redis/replies.ts), logged once per burst at warn;
 * a 5xx its PROBLEM_TYPES row marks `expected` (501 webhooks-disabled) at info; other 5xx answer "internal error"
 * and are logged at error with the request id (a Redis reply without a row: once per burst, with the reply's
 * first word). Errors reach the log only through serializeError (no arguments).
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { MethodNotAllowed, PROBLEM_TYPES, type ProblemCode, RouteNotFound } from '../errors.js'
import { BurstLog } from '../logging/burst-log.js'
import { serializeError } from '../logging/serialize-error.js'
import { replyWord } from '../redis/replies.js'
import type { Problem } from '../schemas/problem.js'
import { AllowedMethods } from './allowed-methods.js'
import { redisProblem } from './redis-problem.js'
import { newRequestId } from './request-id.js'

const RETRY_AFTER_SECONDS = '1'

/** Fastify's own codes, as the gateway's: clients see one vocabulary, the table in docs/errors.md. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RG_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RG_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RG_INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'RG_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'RG_INVALID_REQUEST',
  FST_ERR_BAD_URL: 'RG_INVALID_REQUEST'
}
/** Any other 4xx without a code of ours: the closest code by status, else a plain invalid request. */
const BY_STATUS: Record<number, ProblemCode> = {
  404: 'RG_ROUTE_NOT_FOUND',
  405: 'RG_METHOD_NOT_ALLOWED',
  408: 'RG_REQUEST_TIMEOUT',
  413: 'RG_PAYLOAD_TOO_LARGE',
  415: 'RG_UNSUPPORTED_MEDIA_TYPE',
  429: 'RG_RATE_LIMITED',
  431: 'RG_HEADERS_TOO_LARGE'
}

const isKnown = (code: string): code is ProblemCode => Object.hasOwn(PROBLEM_TYPES, code)
/** The row says this status is an answer the operator chose (a feature left off), not a fault. */
function isExpected (code: ProblemCode): boolean {
  const row = PROBLEM_TYPES[code]
  return 'expected' in row && row.expected
}

/** One Ajv failure as `{path, message}`: the field it is about, and the rule it broke (the Ajv keyword). */
function validationEntry (v: FastifySchemaValidationError, context: string): { path: string, message: string } {
  const params = v.params as { additionalProperty?: unknown, missingProperty?: unknown }
  const field = typeof params.additionalProperty === 'string'
    ? params.additionalProperty
    : typeof params.missingProperty === 'string' ? params.missingProperty : undefined
  const path = `${context}${v.instancePath}${field === undefined ? '' : `/${field}`}`
  if (v.keyword === 'additionalProperties') return { path, message: 'is not a known field (additionalProperties: false)' }
  if (v.keyword === 'required') return { path, message: 'is required (required)' }
  return { path, message: `${v.message ?? 'is invalid'} (${v.keyword})` }
}

export function problemFor (err: FastifyError, instance: string): Problem {
  if (err.validation !== undefined) {
    const errors = err.validation.map(v => validationEntry(v, err.validationContext ?? 'request'))
    return build('RG_INVALID_REQUEST', errors.map(e => `${e.path} ${e.message}`).join('; '), instance, errors)
  }
  const status = err.statusCode ?? 500
  const code = err.code ?? 'RG_INTERNAL'
  // A 5xx we did not declare (any error without a status, Redis's own included), and RG_INTERNAL itself, say
  // nothing about themselves.
  if (code === 'RG_INTERNAL' || (status >= 500 && !isKnown(code))) return build('RG_INTERNAL', 'internal error', instance)
  if (isKnown(code)) return build(code, err.message, instance)
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return build('RG_INVALID_REQUEST', 'a path parameter is longer than the router allows (300 characters)', instance)
  const mapped = FASTIFY_CODES[code]
  if (mapped !== undefined) return build(mapped, err.message, instance)
  if (status >= 500) return build('RG_INTERNAL', 'internal error', instance)
  return build(BY_STATUS[status] ?? 'RG_INVALID_REQUEST', err.message, instance)
}

/** The status always comes from the code's row, so a body can never disagree with docs/errors.md. */
function build (code: ProblemCode, detail: string, instance: string, errors?: Problem['errors']): Problem {
  const known = PROBLEM_TYPES[code]
  const p: Problem = { type: `/problems/${known.slug}`, title: known.title, status: known.status, detail, instance, code }
  if (errors !== undefined) p.errors = errors
  return p
}

function send (reply: FastifyReply, p: Problem, retryAfterSeconds?: number): FastifyReply {
  if (p.status === 503) reply.header('retry-after', retryAfterSeconds === undefined ? RETRY_AFTER_SECONDS : String(retryAfterSeconds))
  return reply.code(p.status).type('application/problem+json').send(p)
}

/**
 * An expected problem answered without an Error: no stack captured (5 µs), no trip through the error handler.
 * For the fetch routes' 404 of a task with nothing stored yet, which a client polling for its result meets on
 * every poll until the task is done. The body is the one the error handler would have written.
 */
export function sendProblem (req: FastifyRequest, reply: FastifyReply, code: ProblemCode, detail: string): FastifyReply {
  return send(reply, build(code, detail, String(req.id)))
}

/** Fastify's `frameworkErrors` option: errors met before routing (bad URL escape, param too long). */
export function frameworkErrors (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  // These skip the onRequest hook that echoes the request id.
  reply.header('x-request-id', req.id)
  send(reply, problemFor(error, String(req.id)))
}

/**
 * Fastify's `clientErrorHandler` option: Node's HTTP parser refused the request (malformed header line, headers
 * too large, request timeout), so there is no request object; the answer is written on the socket as Node does.
 */
export function clientErrorHandler (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const code: ProblemCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? 'RG_REQUEST_TIMEOUT'
    : err.code === 'HPE_HEADER_OVERFLOW' ? 'RG_HEADERS_TOO_LARGE' : 'RG_INVALID_REQUEST'
  // The parser's code (e.g. HPE_INVALID_HEADER_TOKEN) names the fault; its message may quote request bytes.
  const detail = code === 'RG_INVALID_REQUEST' ? `malformed HTTP request (${err.code ?? 'parse error'})` : PROBLEM_TYPES[code].title
  const id = newRequestId()
  const body = JSON.stringify(build(code, detail, id))
  this.log.debug({ code: err.code }, 'client error')
  if (socket.writable) {
    const { status } = PROBLEM_TYPES[code]
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/**
 * An unexpected 5xx, at error with its stack. A Redis reply without a row in the table (errors ioredis read
 * off the wire are ReplyErrors) comes in bursts like any Redis trouble: once per burst per first word.
 */
function logInternal (bursts: BurstLog, req: FastifyRequest, error: unknown): void {
  if (!(error instanceof Error) || error.name !== 'ReplyError') {
    req.log.error({ err: serializeError(error) }, 'request failed')
    return
  }
  const redisReply = replyWord(error.message)
  const folded = bursts.take(`reply:${redisReply}`)
  if (folded !== null) req.log.error({ err: serializeError(error), redisReply, folded }, 'request failed: Redis reply without a row in the table')
}

export default fp(async (app) => {
  const bursts = new BurstLog()
  const allowed = new AllowedMethods()
  app.addHook('onRoute', (route) => allowed.add(route.method, route.url))
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const redis = error instanceof Error ? redisProblem(req.server, error) : null
    const p = problemFor((redis?.err ?? error) as FastifyError, String(req.id))
    if (p.status === 503) {
      // One line per problem code per burst: a failover or a frozen Redis fails every request the same way.
      const folded = bursts.take(p.code)
      const msg = p.code === 'RG_REDIS_UNAVAILABLE' ? 'redis unavailable: answering 503' : 'answering 503'
      if (folded !== null) req.log.warn({ code: p.code, detail: p.detail, err: serializeError(error, false), folded }, msg)
    } else if (p.status >= 500) {
      if (isExpected(p.code)) req.log.info({ code: p.code }, `answering ${p.status}`)
      else logInternal(bursts, req, error)
    }
    return send(reply, p, redis?.retryAfterSeconds)
  })
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    const methods = allowed.for(path)
    if (methods.length > 0) {
      reply.header('allow', methods.join(', '))
      return send(reply, problemFor(new MethodNotAllowed(req.method, path, methods.join(', ')), String(req.id)))
    }
    return send(reply, problemFor(new RouteNotFound(req.method, path), String(req.id)))
  })
}, { name: 'problem' })
