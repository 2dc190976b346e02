/**
 * Many tasks per request: POST /v1/results:batchGet (one MGET, views built like GET) and
 * POST /v1/results:batchWait (all-of / any-of long-poll with one timeout, one shared subscriber).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DecodeError } from '../../celery/codec.js'
import { waitForMany } from '../../celery/wait-result.js'
import { InvalidRequest, TooManyWaiters, UndecodableResult, UnsupportedSerializer } from '../../errors.js'
import { ref } from '../../schemas/common.js'
import { problemResponse as problem } from '../../schemas/problem.js'
import {
  BatchGetRequestSchema, BatchGetResponseSchema, BatchWaitRequestSchema, BatchWaitResponseSchema
} from '../../schemas/result.js'
import { answerWritten, clientGone, decoded } from './shared.js'

function itemError (taskId: string, err: DecodeError): string {
  const e = err.format === 'pickle' || err.format === 'yaml'
    ? new UnsupportedSerializer(taskId, err.format)
    : new UndecodableResult(taskId, err.message)
  return JSON.stringify({ code: e.code, detail: e.message })
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { waiter } = app
  const { batch, wait } = app.settings
  const checkSize = (ids: string[]): void => {
    if (ids.length > batch.maxIds) throw new InvalidRequest(`at most ${batch.maxIds} task ids per batch (RG_BATCH_MAX_IDS), got ${ids.length}`)
  }

  app.post('/results::batchGet', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      summary: 'Fetch many results in one request',
      description: 'One entry per id, in request order: found=false where nothing is stored, error set where ' +
        'the stored value cannot be read (pickle, yaml, garbage); the rest of the batch is unaffected.',
      body: ref(BatchGetRequestSchema),
      response: { 200: ref(BatchGetResponseSchema), 400: problem, 401: problem, 403: problem, 413: problem, 415: problem, 503: problem }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const ids = req.body.taskIds
    checkSize(ids)
    const raws = await results.getRawMany(ids)
    // Each item's view is already JSON text (the results' bulk copied, not re-encoded): joined, not serialized.
    let body = '{"results":['
    ids.forEach((taskId, i) => {
      const raw = raws[i]
      const id = JSON.stringify(taskId)
      const sep = i === 0 ? '' : ','
      if (raw === null || raw === undefined) {
        body += `${sep}{"taskId":${id},"found":false,"result":null,"error":null}`
        return
      }
      try {
        body += `${sep}{"taskId":${id},"found":true,"result":${results.viewJson(raw, taskId)},"error":null}`
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err
        body += `${sep}{"taskId":${id},"found":true,"result":null,"error":${itemError(taskId, err)}}`
      }
    })
    return reply.type('application/json; charset=utf-8').send(`${body}]}`)
  })

  app.post('/results::batchWait', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      summary: 'Wait for many results: all of them (default) or any one',
      description: 'Long-polls every id over the shared subscriber; answers when all (or any) are ready or ' +
        'when timeoutSeconds elapses, with every id\'s current state.',
      body: ref(BatchWaitRequestSchema),
      response: { 200: ref(BatchWaitResponseSchema), 400: problem, 401: problem, 403: problem, 413: problem, 415: problem, 422: problem, 503: problem }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskIds, mode = 'all' } = req.body
    checkSize(taskIds)
    if (waiter.stats.waiters + taskIds.length > wait.maxWaiters) throw new TooManyWaiters(wait.maxWaiters)
    const timeoutMs = Math.min(req.body.timeoutSeconds ?? wait.defaultSeconds, wait.maxSeconds) * 1000
    return await decoded('(batch)', () => waitForMany(results, waiter, taskIds, mode, timeoutMs, clientGone(reply), answerWritten(reply)))
  })
}

export default routes
