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
  const byState = new Gauge({ name: `${P}result_keys`, help: 'Result keys by state, from the last statistics run (a sample when it hit RG_SCAN_MAX_KEYS)', labelNames: ['state'] as const, registers })
  const byTtl = new Gauge({ name: `${P}result_keys_by_ttl`, help: 'Result keys by remaining TTL bucket (none = no expiry), from the last statistics run', labelNames: ['bucket'] as const, registers })
  const memory = new Gauge({ name: `${P}redis_memory_bytes`, help: 'Redis memory summed over masters, from the last statistics run: used, peak, maxmemory (0 = no limit)', labelNames: ['kind'] as const, registers })
  const lastRun = new Gauge({ name: `${P}stats_last_run_timestamp_seconds`, help: 'When result statistics were last refreshed (0 = never)', registers })
  lastRun.set(0)

  const publish = (s: ResultStats): void => {
    byState.reset()
    for (const [state, n] of Object.entries(s.byState)) byState.set({ state: /^[A-Z_]{1,32}$/.test(state) ? state : 'CUSTOM' }, n)
    for (const b of TTL_BUCKETS) byTtl.set({ bucket: b }, s.byTtl[b])
    memory.set({ kind: 'used' }, s.memory.usedBytes)
    memory.set({ kind: 'peak' }, s.memory.peakBytes)
    memory.set({ kind: 'maxmemory' }, s.memory.maxmemoryBytes)
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
