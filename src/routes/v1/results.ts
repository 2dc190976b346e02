/**
 * /v1/results/{taskId}: fetch (view or raw), wait (long-poll), store, expire/persist, forget.
 * HTTP only: schemas plus thin handlers calling src/celery.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { detectFormat } from '../../celery/codec.js'
import { jsonMembers, RawJson } from '../../celery/json-text.js'
import { waitForView } from '../../celery/wait-result.js'
import { InvalidRequest, NotReplicated, ResultFinal, ResultNotFound, TooManyWaiters, UndecodableResult, UnsupportedSerializer } from '../../errors.js'
import { answerWritten, clientGone, decoded } from './shared.js'
import { ref, TaskIdParamsSchema } from '../../schemas/common.js'
import { problemResponse as problem } from '../../schemas/problem.js'
import {
  ExpireRequestSchema, ExpireResponseSchema, ResultViewSchema, StoreRequestSchema, StoreResponseSchema,
  StoreQuerySchema, WaitQuerySchema, WaitResponseSchema, type StoreRequest
} from '../../schemas/result.js'

const EXCEPTION_STATES = new Set(['FAILURE', 'RETRY', 'REVOKED'])

function checkStoreBody (body: StoreRequest): void {
  if (body.error !== undefined && body.result !== undefined) {
    throw new InvalidRequest('give either "result" or "error", not both')
  }
  if (body.error !== undefined && !EXCEPTION_STATES.has(body.state)) {
    throw new InvalidRequest(`"error" is only stored with FAILURE, RETRY or REVOKED, not ${body.state}`)
  }
}

const RAW_TYPES = { json: 'application/json', msgpack: 'application/msgpack' } as const

const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Store bodies: one validating pass finds the members; `result` is kept as the bytes the client sent (never
  // parsed into objects), the rest goes through Fastify's own JSON parser. Bodies without a `result`, and
  // bodies the scanner does not vouch for, take the ordinary parser whole, errors included.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer
    const span = jsonMembers(buf)?.get('result')
    if (span === undefined) {
      parseJson(req, buf.toString(), done)
      return
    }
    const raw = new RawJson(buf.subarray(span[0], span[1]))
    parseJson(req, `${buf.toString('utf8', 0, span[0])}null${buf.toString('utf8', span[1])}`, (err, parsed) => {
      if (err === null && typeof parsed === 'object' && parsed !== null && (parsed as { result?: unknown }).result === null) {
        (parsed as { result: unknown }).result = raw
      }
      done(err, parsed)
    })
  })

  const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 422: problem, 503: problem }

  app.get('/results/:taskId', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      summary: 'Fetch a result as language-neutral JSON',
      description: 'Reads celery-task-meta-<taskId>. A task with nothing stored answers 404 ' +
        '(result-not-found), where Celery would say PENDING; a stored PENDING answers 200.',
      params: TaskIdParamsSchema,
      response: { 200: ref(ResultViewSchema), ...errors }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const body = await decoded(req.params.taskId, () => results.fetchJson(req.params.taskId))
    if (body === null) throw new ResultNotFound(req.params.taskId)
    // Already serialized (the result's JSON text is sliced out, not re-encoded): sent as is.
    return reply.type('application/json; charset=utf-8').send(body)
  })

  app.get('/results/:taskId/raw', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      summary: 'Fetch the stored Celery document untouched',
      description: 'The exact bytes Celery stored: application/json or application/msgpack. Pickle and yaml ' +
        'values are refused (422), never returned.',
      params: TaskIdParamsSchema,
      response: {
        200: {
          description: 'The stored document',
          content: {
            'application/json': { schema: { type: 'object', additionalProperties: true } },
            'application/msgpack': { schema: { type: 'string', format: 'binary' } }
          }
        },
        ...errors
      }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const raw = await results.getRaw(taskId)
    if (raw === null) throw new ResultNotFound(taskId)
    // Only the first bytes are looked at: the document is passed through, never parsed.
    const format = detectFormat(raw)
    if (format === 'pickle' || format === 'yaml') throw new UnsupportedSerializer(taskId, format)
    if (format === 'unknown') throw new UndecodableResult(taskId, 'unrecognised serializer')
    return reply.type(RAW_TYPES[format]).send(raw)
  })

  app.get('/results/:taskId/wait', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      summary: 'Wait (long-poll) until the result is ready or the timeout elapses',
      description: 'Answers as soon as the state is SUCCESS, FAILURE or REVOKED (woken by the PUBLISH Celery ' +
        'sends on the key name), or after timeoutSeconds with timedOut=true and the current state. ' +
        'A task with nothing stored is PENDING with result=null.',
      params: TaskIdParamsSchema,
      querystring: WaitQuerySchema,
      response: { 200: ref(WaitResponseSchema), ...errors }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const { wait } = app.settings
    const timeoutMs = Math.min(req.query.timeoutSeconds ?? wait.defaultSeconds, wait.maxSeconds) * 1000
    if (app.waiter.stats.waiters >= wait.maxWaiters) throw new TooManyWaiters(wait.maxWaiters)
    const body = await decoded(taskId, () => waitForView(results, app.waiter, taskId, timeoutMs, clientGone(reply), answerWritten(reply)))
    // Already serialized (the WaitResponse document, the result's JSON text sliced out): sent as is.
    return reply.type('application/json; charset=utf-8').send(body)
  })

  app.put('/results/:taskId', {
    config: { scope: 'write' },
    schema: {
      tags: ['results'],
      summary: 'Store a result in Celery\'s format and publish it',
      description: 'Writes celery-task-meta-<taskId> with the configured serializer and TTL and PUBLISHes it on ' +
        'the key\'s channel, so Celery AsyncResult.get() waiters wake. A stored SUCCESS is final: a later ' +
        'write is refused with 409 (checked atomically in Redis).',
      params: TaskIdParamsSchema,
      querystring: StoreQuerySchema,
      body: ref(StoreRequestSchema),
      response: { 200: ref(StoreResponseSchema), 409: problem, 413: problem, 415: problem, ...errors }
    }
  }, async (req) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    checkStoreBody(req.body)
    const { durable: defaults } = app.settings.redis
    const durable = { replicas: req.query.replicas ?? defaults.replicas, timeoutMs: defaults.timeoutMs }
    const out = await results.store(taskId, req.body, durable)
    if (!out.applied) throw new ResultFinal(taskId)
    if (out.replicas !== undefined && out.replicas.acknowledged < out.replicas.requested) {
      throw new NotReplicated(taskId, out.replicas.acknowledged, out.replicas.requested, durable.timeoutMs)
    }
    return { taskId, state: req.body.state, applied: true as const, ttlSeconds: out.ttlSeconds, published: out.published, ...(out.replicas === undefined ? {} : { replicas: out.replicas }) }
  })

  app.put('/results/:taskId/ttl', {
    config: { scope: 'write' },
    schema: {
      tags: ['results'],
      summary: 'Set (EXPIRE) or remove (PERSIST, ttlSeconds=null) the expiry of a stored result',
      params: TaskIdParamsSchema,
      body: ref(ExpireRequestSchema),
      response: { 200: ref(ExpireResponseSchema), ...errors }
    }
  }, async (req) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const ttl = await results.expire(taskId, req.body.ttlSeconds)
    if (ttl === undefined) throw new ResultNotFound(taskId)
    return { taskId, ttlSeconds: ttl }
  })

  app.delete('/results/:taskId', {
    config: { scope: 'write' },
    schema: {
      tags: ['results'],
      summary: 'Forget a result (Celery\'s AsyncResult.forget())',
      description: 'Deletes the stored result. Idempotent: 204 whether or not something was stored.',
      params: TaskIdParamsSchema,
      response: { 204: Type.Null({ description: 'Deleted, or nothing was stored' }), ...errors }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    await results.forget(req.params.taskId)
    return reply.code(204).send(null)
  })
}

export default routes
