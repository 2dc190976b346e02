/**
 * Result statistics as metrics, refreshed every RG_STATS_INTERVAL_SECONDS by a paced SCAN — never on the
 * path of a scrape, which only reads the last figures. One run at a time; a failed run keeps the last figures.
 */
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { collectStats, TTL_BUCKETS, type ResultStats } from '../ops/stats.js'

const P = 'result_gateway_'

export default fp(async (app) => {
  const { ops, redis: redisConfig } = app.settings
  const registers = [app.metrics.registry]
  let last: ResultStats | null = null
  // With RG_WORKERS > 1 every worker runs the statistics: across workers they are one figure (first), not a sum.
  // One gauge per quantity (summing used and peak means nothing) and the TTL bucket as a label, so that
  // sum by (state) and sum by (ttl) both add up to the keys seen.
  const keys = new Gauge({ name: `${P}result_keys`, help: 'Result keys by state and remaining TTL bucket (none = no expiry), from the last statistics run (a sample when it hit RG_SCAN_MAX_KEYS)', labelNames: ['state', 'ttl'] as const, registers, aggregator: 'first' })
  const used = new Gauge({ name: `${P}redis_memory_used_bytes`, help: 'Redis used_memory summed over masters, from the last statistics run', registers, aggregator: 'first' })
  const peak = new Gauge({ name: `${P}redis_memory_peak_bytes`, help: 'Redis used_memory_peak summed over masters, from the last statistics run', registers, aggregator: 'first' })
  const max = new Gauge({ name: `${P}redis_memory_max_bytes`, help: 'Redis maxmemory summed over masters, from the last statistics run (0 = no limit)', registers, aggregator: 'first' })
  const lastRun = new Gauge({ name: `${P}stats_last_run_timestamp_seconds`, help: 'When result statistics were last refreshed (0 = never)', registers, aggregator: 'max' })
  lastRun.set(0)

  const publish = (s: ResultStats): void => {
    keys.reset()
    for (const [state, byTtl] of Object.entries(s.byStateTtl)) {
      const label = /^[A-Z_]{1,32}$/.test(state) ? state : 'CUSTOM'
      for (const ttl of TTL_BUCKETS) if (byTtl[ttl] > 0) keys.inc({ state: label, ttl }, byTtl[ttl])
    }
    used.set(s.memory.usedBytes)
    peak.set(s.memory.peakBytes)
    max.set(s.memory.maxmemoryBytes)
    lastRun.set(Date.now() / 1000)
  }

  let running: Promise<void> | null = null
  const refresh = (): Promise<void> => {
    running ??= collectStats(app.redis, { prefix: redisConfig.keyPrefix, count: ops.scanBatch, pauseMs: ops.scanPauseMs, maxKeys: ops.scanMaxKeys })
      .then(s => { last = s; publish(s) }, (err: unknown) => { app.log.warn({ err: { message: (err as Error).message } }, 'result statistics run failed') })
      .finally(() => { running = null })
    return running
  }
  app.decorate('resultStats', { refresh, get last () { return last } })

  if (ops.statsIntervalSeconds > 0) {
    let timer: NodeJS.Timeout | undefined
    app.addHook('onReady', async () => {
      // Once right away: dashboards would otherwise stay empty for a whole interval after every rollout.
      refresh().catch(() => {})
      timer = setInterval(() => { refresh().catch(() => {}) }, ops.statsIntervalSeconds * 1000)
      timer.unref()
    })
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running
    })
  }
}, { name: 'stats', dependencies: ['redis', 'metrics'] })

declare module 'fastify' {
  interface FastifyInstance {
    resultStats: { refresh: () => Promise<void>, readonly last: ResultStats | null }
  }
}
