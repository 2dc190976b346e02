/** Wires the domain objects (ResultStore, Waiter) onto the instance for the routes to use. */
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { ResultStore } from '../celery/result-store.js'
import { Waiter } from '../celery/waiter.js'

declare module 'fastify' {
  interface FastifyInstance {
    results: ResultStore
    waiter: Waiter
    settings: Config
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('settings', config)
  app.decorate('results', new ResultStore(app.redis, {
    keyPrefix: config.redis.keyPrefix,
    defaultTtlSeconds: config.results.ttlSeconds,
    serializer: config.results.serializer,
    observer: app.metrics.observer
  }))
  app.decorate('waiter', new Waiter(app.redisSubscriber, {
    pollIntervalMs: config.wait.pollIntervalMs,
    readyTimeoutMs: config.redis.commandTimeoutMs
  }))
  // Long-poll waiters get an answer ("interrupted") before connections close on shutdown.
  app.addHook('preClose', async () => { app.waiter.interruptAll() })
}, { name: 'celery', dependencies: ['redis', 'metrics'] })
