/** The language-neutral view of a Celery result, and the bodies of store / expire / wait. */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Nullable, ref, TaskIdSchema } from './common.js'

/** Celery's built-in states, plus custom ones (`update_state(state='PROGRESS')`) in upper case. */
export const StateSchema = Type.String({
  $id: 'State',
  pattern: '^[A-Z][A-Z0-9_]{0,63}$',
  description: 'Celery state: PENDING, RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED, IGNORED, ' +
    'or a custom state in upper case (e.g. PROGRESS).',
  examples: ['SUCCESS']
})

export const ErrorInfoSchema = Type.Object({
  type: Type.String({ description: 'Exception class name (Celery exc_type)' }),
  message: Type.String({ description: 'The exception message: its only argument, or all arguments as JSON' }),
  module: Nullable(Type.String({ description: 'Python module of the exception class (Celery exc_module)' })),
  args: Type.Array(Type.Unknown(), { description: 'The exception arguments (Celery exc_message)' })
}, { $id: 'ErrorInfo', description: 'Decoded from Celery\'s exception encoding' })

const JsonValue = Type.Unknown({ description: 'Any JSON value' })

export const ResultViewSchema = Type.Object({
  taskId: Type.String(),
  state: Type.String(),
  ready: Type.Boolean({ description: 'true for SUCCESS, FAILURE and REVOKED' }),
  result: JsonValue,
  error: Nullable(ref(ErrorInfoSchema)),
  traceback: Nullable(Type.String()),
  dateDone: Nullable(Type.String({ description: 'RFC 3339; Celery\'s naive timestamps are UTC and get a Z' })),
  children: Type.Array(Type.String(), { description: 'Task ids of the children (groups flattened)' }),
  parentId: Type.Optional(Type.String()),
  groupId: Type.Optional(Type.String()),
  name: Type.Optional(Nullable(Type.String())),
  args: Type.Optional(JsonValue),
  kwargs: Type.Optional(JsonValue),
  worker: Type.Optional(Nullable(Type.String())),
  retries: Type.Optional(Nullable(Type.Integer())),
  queue: Type.Optional(Nullable(Type.String()))
}, { $id: 'ResultView', description: 'A Celery result in language-neutral JSON' })
export type ResultView = Static<typeof ResultViewSchema>

const TtlSchema = Type.Union([Type.Integer({ minimum: 1, maximum: 2147483647 }), Type.Null()], {
  description: 'Seconds until the result expires; null = never expires; omitted = RG_RESULT_TTL_SECONDS'
})

export const StoreRequestSchema = Type.Object({
  state: ref(StateSchema),
  result: Type.Optional(JsonValue),
  error: Type.Optional(Type.Object({
    type: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.]{0,199}$' }),
    message: Type.Optional(Type.String()),
    args: Type.Optional(Type.Array(Type.Unknown())),
    module: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.]{0,199}$' }))
  }, {
    additionalProperties: false,
    description: 'For FAILURE / RETRY / REVOKED: stored as Celery\'s exc_type / exc_message / exc_module ' +
      '(module defaults to builtins). Mutually exclusive with result.'
  })),
  traceback: Type.Optional(Nullable(Type.String())),
  children: Type.Optional(Type.Array(ref(TaskIdSchema), { maxItems: 10000 })),
  dateDone: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  parentId: Type.Optional(ref(TaskIdSchema)),
  groupId: Type.Optional(ref(TaskIdSchema)),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  args: Type.Optional(Type.Array(Type.Unknown())),
  kwargs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  worker: Type.Optional(Type.String({ maxLength: 255 })),
  retries: Type.Optional(Type.Integer({ minimum: 0 })),
  queue: Type.Optional(Type.String({ maxLength: 255 })),
  ttlSeconds: Type.Optional(TtlSchema)
}, { $id: 'StoreRequest', additionalProperties: false })
export type StoreRequest = Static<typeof StoreRequestSchema>

export const StoreResponseSchema = Type.Object({
  taskId: Type.String(),
  state: Type.String(),
  applied: Type.Boolean({ description: 'true: written and published; false: the same SUCCESS was already stored (see alreadyStored)' }),
  alreadyStored: Type.Optional(Type.Literal(true, {
    description: 'A retried store: a SUCCESS equal to this one in everything but dateDone was already stored, and is kept as it is ' +
      '(nothing written or published; a durable store does not wait for replicas again)'
  })),
  ttlSeconds: Nullable(Type.Integer()),
  published: Type.Integer({ description: 'Subscribers that received the PUBLISH (Celery waiters, gateway waiters); 0 when alreadyStored' }),
  replicas: Type.Optional(Type.Object({
    requested: Type.Integer({ minimum: 1 }),
    acknowledged: Type.Integer({ minimum: 0 })
  }, { description: 'Durable stores only: replicas asked for and replicas that acknowledged the write (Redis WAIT)' }))
}, { $id: 'StoreResponse' })

export const StoreQuerySchema = Type.Object({
  replicas: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 16,
    description: 'Durable store: answer only once this many replicas hold the write (Redis WAIT, up to ' +
      'RG_REDIS_DURABLE_TIMEOUT_MS); fewer in time answers 503 not-replicated. Default RG_REDIS_DURABLE_REPLICAS; 0 = off.'
  }))
})

export const ExpireRequestSchema = Type.Object({
  ttlSeconds: TtlSchema
}, { $id: 'ExpireRequest', additionalProperties: false })

export const ExpireResponseSchema = Type.Object({
  taskId: Type.String(),
  ttlSeconds: Nullable(Type.Integer({ description: 'Remaining seconds; null = never expires' }))
}, { $id: 'ExpireResponse' })

export const WaitQuerySchema = Type.Object({
  timeoutSeconds: Type.Optional(Type.Number({
    minimum: 0, description: 'How long to wait; capped at RG_WAIT_MAX_SECONDS. Default RG_WAIT_DEFAULT_SECONDS.'
  }))
})

export const WaitResponseSchema = Type.Object({
  timedOut: Type.Boolean({ description: 'true when the timeout elapsed before a ready state' }),
  interrupted: Type.Boolean({ description: 'true when the gateway shut down while waiting' }),
  state: Type.String({ description: 'Current state; PENDING when nothing is stored' }),
  result: Type.Union([ref(ResultViewSchema), Type.Null()], { description: 'null when nothing is stored for the task' })
}, { $id: 'WaitResponse' })
export type WaitResponse = Static<typeof WaitResponseSchema>

export const sharedSchemas: TSchema[] = [StateSchema, ErrorInfoSchema, ResultViewSchema, StoreRequestSchema,
  StoreResponseSchema, ExpireRequestSchema, ExpireResponseSchema, WaitResponseSchema]

/**
 * Task ids of a batch, at most maxIds of them (RG_BATCH_MAX_IDS): the schema refuses a longer list before any
 * item is looked at. Distinctness is checked by the route in one pass (a Set), not by Ajv's uniqueItems,
 * which compares the items pairwise: 10,000 ids cost seconds of blocked event loop.
 */
const taskIdList = (maxIds: number) => Type.Array(ref(TaskIdSchema), {
  minItems: 1, maxItems: maxIds, description: `Distinct task ids; at most ${maxIds} (RG_BATCH_MAX_IDS)`
})

const batchGetRequest = (maxIds: number) => Type.Object({
  taskIds: taskIdList(maxIds)
}, { $id: 'BatchGetRequest', additionalProperties: false })

const batchWaitRequest = (maxIds: number) => Type.Object({
  taskIds: taskIdList(maxIds),
  mode: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('any')], {
    description: 'all (default): answer when every result is ready; any: when the first one is'
  })),
  timeoutSeconds: Type.Optional(Type.Number({ minimum: 0, description: 'Capped at RG_WAIT_MAX_SECONDS' }))
}, { $id: 'BatchWaitRequest', additionalProperties: false })

/** The batch request schemas as registered: built once per app from its configured limit. */
export const batchRequestSchemas = (maxIds: number): TSchema[] => [batchGetRequest(maxIds), batchWaitRequest(maxIds)]

/** For types and `ref()` only; the registered schemas come from batchRequestSchemas(config). */
export const BatchGetRequestSchema = batchGetRequest(10000)
export const BatchWaitRequestSchema = batchWaitRequest(10000)

export const BatchItemErrorSchema = Type.Object({
  code: Type.String({ description: 'RG_UNSUPPORTED_SERIALIZER or RG_UNDECODABLE_RESULT' }),
  detail: Type.String()
}, { $id: 'BatchItemError' })

export const BatchGetResponseSchema = Type.Object({
  results: Type.Array(Type.Object({
    taskId: Type.String(),
    found: Type.Boolean({ description: 'false when nothing is stored (Celery would say PENDING)' }),
    result: Type.Union([ref(ResultViewSchema), Type.Null()]),
    error: Type.Union([ref(BatchItemErrorSchema), Type.Null()], { description: 'Set when the stored value cannot be read' })
  }), { description: 'One entry per requested id, in request order' })
}, { $id: 'BatchGetResponse' })

export const BatchWaitResponseSchema = Type.Object({
  timedOut: Type.Boolean({ description: 'true when the timeout elapsed before the condition (all / any) held' }),
  interrupted: Type.Boolean(),
  results: Type.Array(Type.Object({
    taskId: Type.String(),
    state: Type.String({ description: 'Current state; PENDING when nothing is stored' }),
    ready: Type.Boolean(),
    result: Type.Union([ref(ResultViewSchema), Type.Null()], { description: 'null when nothing is stored' })
  }), { description: 'One entry per requested id, in request order' })
}, { $id: 'BatchWaitResponse' })

sharedSchemas.push(BatchItemErrorSchema, BatchGetResponseSchema, BatchWaitResponseSchema)
