/**
 * Load shedding with @fastify/under-pressure: while the event loop lags or the heap is over its limit, new
 * requests get 503 RG_OVERLOADED + Retry-After instead of slowing every client down. Probes and /metrics
 * are exempt (route config `exemptFromLoadShedding`), so Kubernetes and Prometheus still see the truth.
 */
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { Config } from '../config.js'
import { Overloaded } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Serve this route even under pressure (probes, metrics). */
    exemptFromLoadShedding?: boolean
  }
}

export default fp<{ config: Config['load'] }>(async (app, { config }) => {
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    sampleInterval: config.sampleIntervalMs,
    exposeStatusRoute: false,
    pressureHandler: async (req, _reply, type) => {
      if (req.routeOptions.config.exemptFromLoadShedding === true) return
      throw new Overloaded(type)
    }
  })
}, { name: 'limits' })
