/**
 * /v1/results/{taskId}: fetch (view or raw), wait (long-poll), store, expire/persist, forget.
 * HTTP only: schemas plus thin handlers calling src/celery.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { waitForView } from '../../celery/wait-result.js'
import { InvalidRequest, NotReplicated, ResultFinal, ResultNotFound, resultNotFoundDetail } from '../../errors.js'
import { sendProblem } from '../../plugins/problem.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { cachedAnswer, readAnswer, type Answer } from '../../cache/answers.js'
import { atTurnEnd } from '../../cache/turn-end.js'
import type { ResultStore } from '../../celery/result-store.js'
import { admitWait, answerWritten, clientGone, decoded, decodedSync } from './shared.js'
import { cacheControl, notModified } from './conditional.js'
import { EXCEPTION_STATES } from '../../celery/meta.js'
import { ref, TaskIdParamsSchema } from '../../schemas/common.js'
import { BODY_STATUSES, problems, TICKET_SECURITY, V1_STATUSES } from '../../schemas/problem.js'
import {
  ExpireRequestSchema, ExpireResponseSchema, ResultViewSchema, StoreRequestSchema, StoreResponseSchema,
  StoreQuerySchema, WaitQuerySchema, WaitResponseSchema, type StoreRequest
} from '../../schemas/result.js'

function checkStoreBody (body: StoreRequest): void {
  if (body.error !== undefined && body.result !== undefined) {
    throw new InvalidRequest('give either "result" or "error", not both')
  }
  if (body.error !== undefined && !EXCEPTION_STATES.has(body.state)) {
    throw new InvalidRequest(`"error" is only stored with FAILURE, RETRY or REVOKED, not ${body.state}`)
  }
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Every read of a stored result can meet a value it cannot decode (422).
  const readErrors = problems(400, 404, 422, ...V1_STATUSES)
  // Reads of a stored result are conditional: ETag, If-None-Match → 304, Cache-Control (see conditional.ts).
  // If-None-Match is described, not declared as a header schema: validating headers cost a fifth of the fetch
  // path's CPU in bench/conditional.ts, for a header that is only ever compared.
  const conditional = {
    notModified: { 304: { description: 'Not modified: the ETag sent in If-None-Match is current (no body)', type: 'null' } }
  }
  /** Sends an answer (or throws not found); the handlers below return undefined once it is sent. */
  const send = (req: FastifyRequest, reply: FastifyReply, taskId: string, a: Answer | null): undefined => {
    if (a === null) {
      // The answer a poller gets until the task is done: no Error made for it (see sendProblem).
      sendProblem(req, reply, 'RG_RESULT_NOT_FOUND', resultNotFoundDetail(taskId))
      return undefined
    }
    if (!notModified(req, reply, a.etag, cacheControl(a.ready, a.ttlSeconds))) reply.type(a.contentType).send(a.body)
    return undefined
  }
  /**
   * Fetch view or raw: from the answer cache when it holds the key (no Redis, no scan, no promise: the sync
   * handler returns undefined and the answer goes out at the end of the turn), else the key and its TTL are
   * read. Codec errors become problems.
   */
  const fetchAnswer = (req: FastifyRequest, reply: FastifyReply, taskId: string, kind: 'view' | 'raw'): Promise<undefined> | undefined => {
    const results = app.storeFor(req)
    const f = { cache: app.answers, store: results, views: app.views }
    const hit = decodedSync(taskId, () => cachedAnswer(f, taskId, kind))
    if (hit !== undefined) {
      // Sent with the turn's other hits (turn-end.ts); the handler returns undefined and sends later.
      atTurnEnd(() => {
        try {
          send(req, reply, taskId, hit)
        } catch (err) {
          if (!reply.sent) reply.send(err)
        }
      })
      return undefined
    }
    return decoded(taskId, () => readAnswer(f, taskId, kind)).then(a => send(req, reply, taskId, a))
  }
  /** This process's own write is over: the next read here must not answer from before it (read your writes). */
  const written = <T>(results: ResultStore, taskId: string, write: Promise<T>): Promise<T> =>
    write.finally(() => app.answers.invalidate(results.channel(taskId)))

  app.get('/results/:taskId', {
    config: { scope: 'read', ticket: 'taskId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['results'],
      operationId: 'getResult',
      summary: 'Fetch a result as language-neutral JSON',
      description: 'Reads celery-task-meta-<taskId>. A task with nothing stored answers 404 ' +
        '(result-not-found), where Celery would say PENDING; a stored PENDING answers 200. ETag: a digest of the ' +
        'stored value; send it back in If-None-Match to get 304 while it is current. Cache-Control: `private, max-age=N` for a ready result (N at most the ' +
        'key\'s TTL and 300), `no-store` otherwise.',
      params: TaskIdParamsSchema,
      response: { 200: ref(ResultViewSchema), ...conditional.notModified, ...readErrors }
    }
  }, (req, reply) => fetchAnswer(req, reply, req.params.taskId, 'view'))

  app.get('/results/:taskId/raw', {
    config: { scope: 'read', ticket: 'taskId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['results'],
      operationId: 'getRawResult',
      summary: 'Fetch the stored Celery document untouched',
      description: 'The exact bytes Celery stored: application/json or application/msgpack, once they are proved ' +
        'a valid Celery document (invalid JSON or UTF-8 is 422 undecodable-result). Pickle and yaml values are ' +
        'refused (422), never returned. ETag and Cache-Control as for the view (the tags differ).',
      params: TaskIdParamsSchema,
      response: {
        200: {
          description: 'The stored document',
          content: {
            'application/json': { schema: { type: 'object', additionalProperties: true } },
            'application/msgpack': { schema: { type: 'string', format: 'binary' } }
          }
        },
        ...conditional.notModified,
        ...readErrors
      }
    }
  }, (req, reply) => fetchAnswer(req, reply, req.params.taskId, 'raw'))

  app.get('/results/:taskId/wait', {
    config: { scope: 'read', ticket: 'taskId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['results'],
      operationId: 'waitForResult',
      summary: 'Wait (long-poll) until the result is ready or the timeout elapses',
      description: 'Answers as soon as the state is SUCCESS, FAILURE or REVOKED (woken by the PUBLISH Celery ' +
        'sends on the key name), or after timeoutSeconds with timedOut=true and the current state. ' +
        'A task with nothing stored is PENDING with result=null.',
      params: TaskIdParamsSchema,
      querystring: WaitQuerySchema,
      response: { 200: ref(WaitResponseSchema), ...problems(400, 422, ...V1_STATUSES) }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const timeoutMs = admitWait(app.waiter, app.settings.wait, 1, req.query.timeoutSeconds)
    const body = await decoded(taskId, () => waitForView(results, app.views, app.waiter, taskId, timeoutMs, clientGone(reply), answerWritten(reply)))
    // Already serialized (the WaitResponse document, the result's JSON text sliced out): sent as is.
    return reply.type('application/json; charset=utf-8').send(body)
  })

  app.put('/results/:taskId', {
    config: { scope: 'write' },
    schema: {
      tags: ['results'],
      operationId: 'storeResult',
      summary: 'Store a result in Celery\'s format and publish it',
      description: 'Writes celery-task-meta-<taskId> with the configured serializer and TTL and PUBLISHes it on ' +
        'the key\'s channel, so Celery AsyncResult.get() waiters wake. A stored SUCCESS is final: a later ' +
        'write is refused with 409 (checked atomically in Redis), unless it is the same document but for dateDone ' +
        '(a retried store): then 200 with applied false and alreadyStored true, nothing written or published.',
      params: TaskIdParamsSchema,
      querystring: StoreQuerySchema,
      body: ref(StoreRequestSchema),
      response: { 200: ref(StoreResponseSchema), ...problems(400, 409, ...BODY_STATUSES, ...V1_STATUSES) }
    }
  }, async (req) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    checkStoreBody(req.body)
    const { durable: defaults } = app.settings.redis
    const durable = { replicas: req.query.replicas ?? defaults.replicas, timeoutMs: defaults.timeoutMs }
    const out = await written(results, taskId, results.store(taskId, req.body, durable))
    // A retried store of the SUCCESS already there (its answer was lost on the way back): say it is kept.
    if (!out.applied && out.alreadyStored === true) return { taskId, state: req.body.state, applied: false, alreadyStored: true, ttlSeconds: out.ttlSeconds, published: 0 }
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
      operationId: 'setResultTtl',
      summary: 'Set (EXPIRE) or remove (PERSIST, ttlSeconds=null) the expiry of a stored result',
      description: 'ttlSeconds N sets the expiry (EXPIRE), null removes it (PERSIST). 404 when nothing is stored.',
      params: TaskIdParamsSchema,
      body: ref(ExpireRequestSchema),
      response: { 200: ref(ExpireResponseSchema), ...problems(400, 404, ...BODY_STATUSES, ...V1_STATUSES) }
    }
  }, async (req) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const ttl = await written(results, taskId, results.expire(taskId, req.body.ttlSeconds))
    if (ttl === undefined) throw new ResultNotFound(taskId)
    return { taskId, ttlSeconds: ttl }
  })

  app.delete('/results/:taskId', {
    config: { scope: 'write' },
    schema: {
      tags: ['results'],
      operationId: 'forgetResult',
      summary: 'Forget a result (Celery\'s AsyncResult.forget())',
      description: 'Deletes the stored result. Idempotent: 204 whether or not something was stored.',
      params: TaskIdParamsSchema,
      response: { 204: Type.Null({ description: 'Deleted, or nothing was stored' }), ...problems(400, ...V1_STATUSES) }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    await written(results, req.params.taskId, results.forget(req.params.taskId))
    return reply.code(204).send(null)
  })
}

export default routes
