/**
 * Load shedding with @fastify/under-pressure: while the event loop lags or the heap is over its limit, new
 * requests get 503 RG_OVERLOADED + Retry-After instead of slowing every client down. Probes and /metrics
 * are exempt (route config `exemptFromLoadShedding`), so Kubernetes and Prometheus still see the truth;
 * `app.overloaded()` tells /readyz the same verdict, so readiness and shedding always agree.
 */
import fp from 'fastify-plugin'
import { performance } from 'node:perf_hooks'
import underPressure from '@fastify/under-pressure'
import type { Config } from '../config.js'
import { Overloaded } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Serve this route even under pressure (probes, metrics). */
    exemptFromLoadShedding?: boolean
  }
  interface FastifyInstance {
    /** What is over its limit ('eventLoopDelay', 'heapUsedBytes'), or undefined when requests are served. */
    overloaded: () => string | undefined
  }
}

export default fp<{ config: Config['load'] }>(async (app, { config }) => {
  // Start-up (module loading, schema compilation, connecting) blocks the loop for a while; the sampler would
  // read that as lag and shed the first requests while /readyz already says 200. So the verdict counts only
  // once a whole sample interval has passed after the app is ready (two intervals: the sample in progress at
  // onReady still holds start-up time).
  let judgeFrom = Number.POSITIVE_INFINITY
  app.addHook('onReady', async () => { judgeFrom = performance.now() + 2 * config.sampleIntervalMs })

  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    sampleInterval: config.sampleIntervalMs,
    exposeStatusRoute: false,
    pressureHandler: async (req, _reply, type) => {
      if (req.routeOptions.config.exemptFromLoadShedding === true || performance.now() < judgeFrom) return
      throw new Overloaded(type)
    }
  })

  app.decorate('overloaded', (): string | undefined => {
    if (performance.now() < judgeFrom || !app.isUnderPressure()) return undefined
    const { eventLoopDelay } = app.memoryUsage()
    return config.maxEventLoopDelayMs > 0 && eventLoopDelay > config.maxEventLoopDelayMs ? 'eventLoopDelay' : 'heapUsedBytes'
  })
}, { name: 'limits' })
