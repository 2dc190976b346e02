/** Group and chord progress. */
import { Type, type Static } from '@sinclair/typebox'

export const GroupViewSchema = Type.Object({
  groupId: Type.String(),
  saved: Type.Boolean({ description: 'false when only chord counters exist (the header group was not saved)' }),
  total: Type.Integer({ description: 'Children listed in the saved group' }),
  completed: Type.Integer({ description: 'Children in SUCCESS' }),
  failed: Type.Integer({ description: 'Children in FAILURE' }),
  ready: Type.Integer({ description: 'Children in a ready state (SUCCESS, FAILURE, REVOKED)' }),
  allReady: Type.Boolean(),
  successful: Type.Boolean({ description: 'Every child in SUCCESS' }),
  states: Type.Record(Type.String(), Type.Integer(), { description: 'Children per state' }),
  children: Type.Array(Type.Object({
    taskId: Type.String(),
    state: Type.String({ description: 'PENDING when nothing is stored' }),
    ready: Type.Boolean()
  })),
  chord: Type.Union([Type.Object({
    total: Type.Integer({ description: 'Chord header size (Celery\'s .s key plus its .t adjustment)' }),
    completed: Type.Integer({ description: 'Header parts done (members of Celery\'s .j sorted set or list)' })
  }), Type.Null()], { description: 'Progress of a running chord; null when no chord counters exist' })
}, { $id: 'GroupView' })
export type GroupView = Static<typeof GroupViewSchema>

export const GroupWaitResponseSchema = Type.Object({
  timedOut: Type.Boolean(),
  interrupted: Type.Boolean(),
  group: Type.Unsafe<GroupView>({ $ref: 'GroupView#' })
}, { $id: 'GroupWaitResponse' })
