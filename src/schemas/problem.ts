/** RFC 9457 problem details, the body of every 4xx/5xx answer. */
import { Type, type Static } from '@sinclair/typebox'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: '`/problems/<slug>`, or `about:blank` for plain HTTP statuses' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String({ description: 'What went wrong for this request; safe to show' }),
  instance: Type.String({ description: 'The request id (also in the logs)' }),
  code: Type.String({ description: 'RG_* or FST_* error code' }),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
    description: 'Validation failures only'
  }))
}, { $id: 'Problem', description: 'application/problem+json' })
export type Problem = Static<typeof ProblemSchema>

/** A route's error response: the Problem component as application/problem+json. */
export const problemResponse = {
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } }
} as const
