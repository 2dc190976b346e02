/** /v1/admin: result statistics, the orphan sweep and the doctor, for operators (admin scope). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { InvalidRequest } from '../../errors.js'
import { runDoctor } from '../../ops/doctor.js'
import { CursorError } from '../../ops/scan.js'
import { collectStats } from '../../ops/stats.js'
import { sweepOrphans } from '../../ops/sweep.js'
import { ref } from '../../schemas/common.js'
import { DoctorReportSchema, ResultStatsSchema, SweepRequestSchema, SweepResultSchema } from '../../schemas/ops.js'
import { BODY_STATUSES, problems, V1_STATUSES } from '../../schemas/problem.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { ops, redis: redisConfig, results } = app.settings
  const errors = problems(...V1_STATUSES)
  const scan = { prefix: redisConfig.keyPrefix, count: ops.scanBatch, pauseMs: ops.scanPauseMs }

  app.get('/admin/stats', {
    config: { scope: 'admin' },
    schema: {
      tags: ['admin'],
      operationId: 'getResultStats',
      summary: 'Result keys by state and TTL, and Redis memory',
      description: 'Walks the result keys with SCAN (never KEYS) in batches of RG_SCAN_BATCH, pausing RG_SCAN_PAUSE_MS ' +
        'between them, across every cluster master, up to RG_SCAN_MAX_KEYS keys (complete=false: a sample). The same ' +
        'figures are exported as metrics every RG_STATS_INTERVAL_SECONDS.',
      response: { 200: ref(ResultStatsSchema), ...errors }
    }
  }, async () => collectStats(app.redis, { ...scan, maxKeys: ops.scanMaxKeys }))

  // `::` is find-my-way's escaped colon: the literal path /admin/orphans:sweep, not a parameter named sweep.
  app.post('/admin/orphans::sweep', {
    config: { scope: 'admin' },
    schema: {
      tags: ['admin'],
      operationId: 'sweepOrphans',
      summary: 'Find result keys without a TTL, and optionally give them one',
      description: 'The seed guide\'s "orphaned results": a dry run by default; with apply=true each orphan gets ' +
        'RG_RESULT_TTL_SECONDS (EXPIRE NX, never a delete). Paced SCAN; stops after maxKeys and returns a cursor to resume.',
      body: ref(SweepRequestSchema),
      response: { 200: ref(SweepResultSchema), ...problems(400, ...BODY_STATUSES), ...errors }
    }
  }, async (req) => {
    const { apply = false, cursor, maxKeys } = req.body
    try {
      return await sweepOrphans(app.redis, {
        ...scan,
        maxKeys: Math.min(maxKeys ?? ops.scanMaxKeys, ops.scanMaxKeys),
        ...(cursor === undefined ? {} : { cursor }),
        apply,
        ttlSeconds: results.ttlSeconds > 0 ? results.ttlSeconds : 86400
      })
    } catch (err) {
      if (err instanceof CursorError) throw new InvalidRequest(err.message)
      throw err
    }
  })

  app.get('/admin/doctor', {
    config: { scope: 'admin' },
    schema: {
      tags: ['admin'],
      operationId: 'runDoctor',
      summary: 'Check Redis as the gateway uses it',
      description: 'The same checks as `result-gateway doctor`: connection, auth and TLS, topology health, ' +
        'maxmemory-policy, persistence, keyspace events, latency, and recent results under the prefix.',
      response: { 200: ref(DoctorReportSchema), ...errors }
    }
  }, async () => {
    const checks = await runDoctor(redisConfig)
    return { ok: checks.every(c => c.status !== 'fail'), checks }
  })
}

export default routes
