/** RFC 9457 problem details, the body of every 4xx/5xx answer. */
import { Type, type Static } from '@sinclair/typebox'
import { PROBLEM_TYPES, type ProblemCode } from '../errors.js'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: '`/problems/<slug>`: one per code (see docs/errors.md)' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String({ description: 'What went wrong for this request; safe to show' }),
  instance: Type.String({ description: 'The request id (also in the logs)' }),
  // A string enum, not a union of literals: generators read it the same, and the serializer compiled for every
  // error response of every route stays a plain string write (a union is checked with Ajv on each answer).
  code: Type.Unsafe<ProblemCode>({
    type: 'string',
    enum: Object.keys(PROBLEM_TYPES),
    description: 'The RG_* code: one row of the table in docs/errors.md. Clients should accept codes added in later releases'
  }),
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

/**
 * What every authenticated /v1 route can answer besides its own statuses: 401/403 (auth), 429 (rate limit,
 * when RG_RATE_LIMIT_PER_MINUTE is set), 500 (redis-denied, internal) and 503 (Redis down, overload).
 */
export const V1_STATUSES = [401, 403, 429, 500, 503] as const
/** Read routes that take a `?ticket=` (POST /v1/tickets) instead of a token, for browsers' EventSource. */
export const TICKET_SECURITY = [{ bearer: [] }, { ticket: [] }]

/** Routes that read a body: too large, not JSON. */
export const BODY_STATUSES = [413, 415] as const

/** The response map entries for these statuses, each the problem+json response. */
export function problems<S extends number> (...statuses: S[]): { [K in S]: typeof problemResponse } {
  return Object.fromEntries(statuses.map(s => [s, problemResponse])) as { [K in S]: typeof problemResponse }
}
