/** Wires the domain objects (ResultStore per key prefix, ResultViews, Waiter) onto the instance for the routes to use. */
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { ResultStore } from '../celery/result-store.js'
import { ResultViews } from '../celery/view.js'
import { Waiter } from '../celery/waiter.js'
import { ReadBatcher } from '../redis/read-batch.js'
import { StoreBatcher } from '../redis/store-batch.js'

declare module 'fastify' {
  interface FastifyInstance {
    results: ResultStore
    /** Stored or published bytes → views (one for every prefix: it holds no key). */
    views: ResultViews
    waiter: Waiter
    settings: Config
    /** The ResultStore for this caller's key prefix (a token may confine it to one Celery app). */
    storeFor: (req: FastifyRequest) => ResultStore
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('settings', config)
  const stores = new Map<string, ResultStore>()
  // One batch of reads per connection, whatever the callers' prefixes.
  const reads = new ReadBatcher(app.redis)
  const writes = new StoreBatcher(app.redis)
  const storeForPrefix = (keyPrefix: string): ResultStore => {
    let store = stores.get(keyPrefix)
    if (store === undefined) {
      store = new ResultStore(app.redis, {
        keyPrefix,
        defaultTtlSeconds: config.results.ttlSeconds,
        serializer: config.results.serializer,
        maxInflatedBytes: config.results.maxBytes,
        observer: app.metrics.observer,
        deadlineMs: config.redis.commandTimeoutMs,
        durable: app.redisDurable,
        reads,
        writes
      })
      stores.set(keyPrefix, store)
    }
    return store
  }
  app.decorate('views', new ResultViews({ observer: app.metrics.observer, maxInflatedBytes: config.results.maxBytes }))
  app.decorate('results', storeForPrefix(config.redis.keyPrefix))
  app.decorate('storeFor', (req: FastifyRequest) => storeForPrefix(req.principal?.keyPrefix ?? config.redis.keyPrefix))
  app.decorate('waiter', new Waiter(app.redisSubscriber, {
    pollIntervalMs: config.wait.pollIntervalMs,
    readyTimeoutMs: config.redis.commandTimeoutMs
  }))
  // Long-poll waiters get an answer ("interrupted") before connections close on shutdown; those answers say
  // Connection: close (plugins/lifecycle.ts's preClose ran first).
  app.addHook('preClose', async () => {
    app.waiter.interruptAll()
  })
}, { name: 'celery', dependencies: ['redis', 'metrics', 'lifecycle'] })
