/** Schemas shared by every route: the task id, and a typed `$ref` helper for shared components. */
import { Type, type Static, type TSchema } from '@sinclair/typebox'

/**
 * A Celery task id as the gateway accepts it: letters, digits and `._:@+-`, starting with a letter or
 * digit, at most 255 characters, never `..`. Celery's own ids are UUIDs; custom ids must fit this.
 * Only src/celery/keys.ts turns it into a Redis key.
 */
export const TaskIdSchema = Type.String({
  $id: 'TaskId',
  // "No `..`" without a look-ahead (RE2 engines such as Go's regexp refuse `(?!`): every dot is followed by a
  // non-dot character, except one dot at the very end. The length bound moves to maxLength for the same reason.
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9_:@+-]|\\.[A-Za-z0-9_:@+-])*\\.?$',
  minLength: 1,
  maxLength: 255,
  description: 'Celery task id (a UUID for ids Celery generates). Letters, digits and ._:@+- only; ' +
    'starts with a letter or digit; no "..", at most 255 characters.',
  examples: ['d06bfa71-85ad-4e6b-beba-6a62b483c6c0']
})
export type TaskId = Static<typeof TaskIdSchema>

/** `{ $ref: '<id>#' }` typed as the referenced schema, so routes share one component. */
export function ref<T extends TSchema> (schema: T) {
  if (schema.$id === undefined) throw new Error('ref() needs a schema with $id')
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#` })
}

export const TaskIdParamsSchema = Type.Object({ taskId: ref(TaskIdSchema) })

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
