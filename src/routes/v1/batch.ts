/**
 * Many tasks per request: POST /v1/results:batchGet (one MGET, views built like GET) and
 * POST /v1/results:batchWait (all-of / any-of long-poll with one timeout, one shared subscriber).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DecodeError } from '../../celery/codec.js'
import { waitForMany } from '../../celery/wait-result.js'
import { InvalidRequest, UndecodableResult, UnsupportedSerializer } from '../../errors.js'
import { ref } from '../../schemas/common.js'
import { BODY_STATUSES, problems, V1_STATUSES } from '../../schemas/problem.js'
import {
  BatchGetRequestSchema, BatchGetResponseSchema, BatchWaitRequestSchema, BatchWaitResponseSchema
} from '../../schemas/result.js'
import { admitWait, answerWritten, clientGone, decoded } from './shared.js'

function itemError (taskId: string, err: DecodeError): string {
  const e = err.format === 'pickle' || err.format === 'yaml'
    ? new UnsupportedSerializer(taskId, err.format)
    : new UndecodableResult(taskId, err.message)
  return JSON.stringify({ code: e.code, detail: e.message })
}

/** Ids must be distinct: one pass over a Map (the schema's maxItems has already bounded the list). */
function checkDistinct (ids: string[]): void {
  const seen = new Map<string, number>()
  ids.forEach((id, i) => {
    const first = seen.get(id)
    if (first !== undefined) throw new InvalidRequest(`body/taskIds/${i} repeats body/taskIds/${first} (${id}): task ids must be distinct`)
    seen.set(id, i)
  })
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { waiter } = app
  const { wait } = app.settings

  app.post('/results::batchGet', {
    config: { scope: 'read' },
    schema: {
      tags: ['results'],
      operationId: 'batchGetResults',
      summary: 'Fetch many results in one request',
      description: 'One entry per id, in request order: found=false where nothing is stored, error set where ' +
        'the stored value cannot be read (pickle, yaml, garbage); the rest of the batch is unaffected.',
      body: ref(BatchGetRequestSchema),
      response: { 200: ref(BatchGetResponseSchema), ...problems(400, ...BODY_STATUSES, 422, ...V1_STATUSES) }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const ids = req.body.taskIds
    checkDistinct(ids)
    const documents = await results.readDocuments(ids)
    // Each item's view is already JSON text (the results' bulk copied, not re-encoded): joined, not serialized.
    let body = '{"results":['
    ids.forEach((taskId, i) => {
      const document = documents[i]
      const id = JSON.stringify(taskId)
      const sep = i === 0 ? '' : ','
      if (document === null || document === undefined) {
        body += `${sep}{"taskId":${id},"found":false,"result":null,"error":null}`
        return
      }
      try {
        if (document instanceof DecodeError) throw document
        body += `${sep}{"taskId":${id},"found":true,"result":${app.views.text(document, taskId).body},"error":null}`
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
      operationId: 'batchWaitResults',
      summary: 'Wait for many results: all of them (default) or any one',
      description: 'Long-polls every id over the shared subscriber; answers when all (or any) are ready or ' +
        'when timeoutSeconds elapses, with every id\'s current state.',
      body: ref(BatchWaitRequestSchema),
      response: { 200: ref(BatchWaitResponseSchema), ...problems(400, ...BODY_STATUSES, 422, ...V1_STATUSES) }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskIds, mode = 'all' } = req.body
    checkDistinct(taskIds)
    const timeoutMs = admitWait(waiter, wait, taskIds.length, req.body.timeoutSeconds)
    return await decoded('(batch)', () => waitForMany(results, app.views, waiter, taskIds, mode, timeoutMs, clientGone(reply), answerWritten(reply)))
  })
}

export default routes
