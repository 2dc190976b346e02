/**
 * In a worker of RG_WORKERS > 1: GET /metrics answers with the figures of every worker, aggregated by the
 * primary (counters and histograms summed, gauges summed unless prom-client says otherwise), so a scrape
 * that lands on any worker sees the whole host. Registered before plugins/metrics.ts, whose route it
 * re-targets (auth, hooks and the route's options are untouched).
 */
import fp from 'fastify-plugin'
import { AggregatorRegistry } from 'prom-client'
import { clusterMetrics, isClusterWorker } from '../workers.js'

export default fp(async (app) => {
  if (!isClusterWorker()) return
  // Constructing one installs prom-client's listener for the primary's requests in this worker.
  new AggregatorRegistry() // eslint-disable-line no-new
  app.addHook('onRoute', (route) => {
    if (route.url !== '/metrics' || route.method !== 'GET') return
    route.handler = async (_req, reply) => reply.type(app.metrics.registry.contentType).send(await clusterMetrics())
  })
  app.addHook('onReady', (done) => {
    AggregatorRegistry.setRegistries([app.metrics.registry])
    done()
  })
}, { name: 'cluster-metrics' })
