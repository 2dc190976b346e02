/** Operator endpoints: result statistics, the orphan sweep and the doctor. */
import { Type, type Static } from '@sinclair/typebox'

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }))

export const ResultStatsSchema = Type.Object({
  scannedKeys: Type.Integer({ description: 'Result keys looked at' }),
  complete: Type.Boolean({ description: 'false when RG_SCAN_MAX_KEYS ran out first: the counts are then a sample' }),
  byState: Counts,
  byTtl: Type.Object({
    none: Type.Integer(), under_1h: Type.Integer(), under_1d: Type.Integer(), under_7d: Type.Integer(), over_7d: Type.Integer()
  }, { description: 'Keys by remaining TTL; none = no expiry (orphans)' }),
  memory: Type.Object({
    usedBytes: Type.Integer(),
    peakBytes: Type.Integer(),
    maxmemoryBytes: Type.Integer({ description: '0 = no limit' }),
    policies: Type.Array(Type.String(), { description: 'maxmemory-policy of each master' })
  }),
  durationMs: Type.Integer()
}, { $id: 'ResultStats' })

export const SweepRequestSchema = Type.Object({
  // No `default` keyword: generators (openapi-typescript) make a defaulted field required, and `{}` is a valid dry run.
  apply: Type.Optional(Type.Boolean({ description: 'false (default): report only; true: give each orphan RG_RESULT_TTL_SECONDS (EXPIRE NX), never delete' })),
  cursor: Type.Optional(Type.String({ pattern: '^\\d{1,4}:\\d{1,20}$', description: 'Resume where a previous sweep stopped' })),
  maxKeys: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after about this many keys (at most RG_SCAN_MAX_KEYS)' }))
}, { $id: 'SweepRequest', additionalProperties: false })
export type SweepRequest = Static<typeof SweepRequestSchema>

export const SweepResultSchema = Type.Object({
  scannedKeys: Type.Integer(),
  orphans: Type.Integer({ description: 'Result keys without a TTL' }),
  expired: Type.Integer({ description: 'Orphans given the TTL (0 in a dry run)' }),
  ttlSeconds: Type.Integer(),
  dryRun: Type.Boolean(),
  sample: Type.Array(Type.String(), { description: 'Up to 20 task ids of orphans' }),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass back to continue; null when the walk is complete' })
}, { $id: 'SweepResult' })

export const DoctorReportSchema = Type.Object({
  ok: Type.Boolean({ description: 'true when no check failed' }),
  checks: Type.Array(Type.Object({
    name: Type.String(),
    status: Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]),
    detail: Type.String(),
    fix: Type.Optional(Type.String())
  }))
}, { $id: 'DoctorReport' })

export const opsSchemas = [ResultStatsSchema, SweepRequestSchema, SweepResultSchema, DoctorReportSchema]
