/** /v1/groups/{groupId}: progress of a saved Celery group (and its chord), and waiting for all of it. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { GroupReader, summarize } from '../../celery/groups.js'
import { waitForMany } from '../../celery/wait-result.js'
import { GroupNotFound } from '../../errors.js'
import { ref, TaskIdSchema } from '../../schemas/common.js'
import { GroupViewSchema, GroupWaitResponseSchema } from '../../schemas/group.js'
import { problems, TICKET_SECURITY, V1_STATUSES } from '../../schemas/problem.js'
import { WaitQuerySchema } from '../../schemas/result.js'
import { admitWait, answerWritten, clientGone, decoded } from './shared.js'

const ParamsSchema = Type.Object({ groupId: ref(TaskIdSchema) })

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { wait } = app.settings
  const errors = problems(400, 404, 422, ...V1_STATUSES)

  app.get('/groups/:groupId', {
    config: { scope: 'read', ticket: 'groupId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['groups'],
      operationId: 'getGroup',
      summary: 'Progress of a group or chord',
      description: 'Reads celery-taskset-meta-<groupId> (written by GroupResult.save()) and each child\'s ' +
        'state, plus Celery\'s chord counters while a chord runs. 404 when neither exists.',
      params: ParamsSchema,
      response: { 200: ref(GroupViewSchema), ...errors }
    }
  }, async (req) => {
    const results = app.storeFor(req)
    const groups = new GroupReader(results, app.views)
    const { groupId } = req.params
    const view = await decoded(groupId, () => groups.read(groupId))
    if (view === null) throw new GroupNotFound(groupId)
    return view
  })

  app.get('/groups/:groupId/wait', {
    config: { scope: 'read', ticket: 'groupId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['groups'],
      operationId: 'waitForGroup',
      summary: 'Wait until every child of a saved group is ready',
      description: 'Long-polls every child of celery-taskset-meta-<groupId> until all are ready or timeoutSeconds ' +
        'elapses (timedOut=true). 404 when no group is saved under the id.',
      params: ParamsSchema,
      querystring: WaitQuerySchema,
      response: { 200: ref(GroupWaitResponseSchema), ...errors }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const groups = new GroupReader(results, app.views)
    const { groupId } = req.params
    const ids = await decoded(groupId, () => groups.childIds(groupId))
    if (ids === null) throw new GroupNotFound(groupId)
    const timeoutMs = admitWait(app.waiter, wait, ids.length, req.query.timeoutSeconds)
    const many = await decoded(groupId, () => waitForMany(results, app.views, app.waiter, ids, 'all', timeoutMs, clientGone(reply), answerWritten(reply)))
    const chord = await groups.chord(groupId)
    return {
      timedOut: many.timedOut,
      interrupted: many.interrupted,
      group: summarize(groupId, true, many.results.map(r => ({ taskId: r.taskId, state: r.state, ready: r.ready })), chord)
    }
  })
}

export default routes
