/**
 * The one place errors become HTTP answers: every 4xx/5xx leaves as application/problem+json (RFC 9457).
 * Redis trouble is 503 + Retry-After, logged once per burst at warn; other 5xx answer "internal error" and
 * are logged at error with the request id. Errors reach the log only through serializeError (no arguments).
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_TYPES, type ProblemCode, RedisDenied, RedisUnavailable, RouteNotFound } from '../errors.js'
import { BurstLog, classifyRedisError, isUnavailable, serializeError, unavailableReason } from '../redis/errors.js'
import type { Problem } from '../schemas/problem.js'

const RETRY_AFTER_SECONDS = '1'

function problemFor (err: FastifyError, req: FastifyRequest): Problem {
  if (err.validation !== undefined) {
    const errors = err.validation.map(v => ({
      path: `${err.validationContext ?? 'request'}${v.instancePath === '' ? '' : v.instancePath}`,
      message: v.message ?? 'invalid'
    }))
    const detail = errors.map(e => `${e.path} ${e.message}`).join('; ')
    return build('RG_INVALID_REQUEST', 400, detail, req, errors)
  }
  const status = err.statusCode ?? 500
  const code = err.code ?? 'RG_INTERNAL'
  // A 5xx we did not declare (any error without a status, Redis's own included) says nothing about itself.
  if (status >= 500 && (code === 'RG_INTERNAL' || !(code in PROBLEM_TYPES))) return build('RG_INTERNAL', 500, 'internal error', req)
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return build('RG_PAYLOAD_TOO_LARGE', 413, err.message, req)
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return build('RG_UNSUPPORTED_MEDIA_TYPE', 415, err.message, req)
  return build(code, status, err.message, req)
}

function build (code: string, status: number, detail: string, req: FastifyRequest, errors?: Problem['errors']): Problem {
  const known = PROBLEM_TYPES[code as ProblemCode] as (typeof PROBLEM_TYPES)[ProblemCode] | undefined
  const p: Problem = {
    type: known === undefined ? 'about:blank' : `/problems/${known.slug}`,
    title: known?.title ?? httpTitle(status),
    status,
    detail,
    instance: String(req.id),
    code
  }
  if (errors !== undefined) p.errors = errors
  return p
}

function httpTitle (status: number): string {
  return status >= 500 ? 'Server error' : 'Bad request'
}

function send (reply: FastifyReply, p: Problem): FastifyReply {
  if (p.status === 503) reply.header('retry-after', RETRY_AFTER_SECONDS)
  return reply.code(p.status).type('application/problem+json').send(p)
}

export default fp(async (app) => {
  const bursts = new BurstLog()
  app.setErrorHandler((error: FastifyError, req, reply) => {
    let err = error
    if (isUnavailable(err)) err = new RedisUnavailable(unavailableReason(err))
    else if (classifyRedisError(err) === 'denied') {
      // ioredis attaches the failed command; its name (never its arguments) tells the operator what to grant.
      const command = (err as { command?: { name?: unknown } }).command?.name
      const name = typeof command === 'string' && /^[a-z|]{1,32}$/i.test(command) ? command.toUpperCase() : 'unknown command'
      err = new RedisDenied(`${name}: ${err.message.split('\n')[0] ?? 'NOPERM'}`)
    }
    const p = problemFor(err, req)
    if (p.status === 503) {
      // One line per problem code per burst: a failover or a frozen Redis fails every request the same way.
      const folded = bursts.take(p.code)
      const msg = p.code === 'RG_REDIS_UNAVAILABLE' ? 'redis unavailable: answering 503' : 'answering 503'
      if (folded !== null) req.log.warn({ code: p.code, detail: p.detail, err: serializeError(error, false), folded }, msg)
    } else if (p.status >= 500) {
      req.log.error({ err: serializeError(error) }, 'request failed')
    }
    return send(reply, p)
  })
  app.setNotFoundHandler((req, reply) => {
    const err = new RouteNotFound(req.method, req.url.split('?')[0] ?? '')
    return send(reply, problemFor(err, req))
  })
}, { name: 'problem' })
