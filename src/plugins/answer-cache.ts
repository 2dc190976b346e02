/**
 * Wires the answer cache (cache/answer-cache.ts) and its CLIENT TRACKING (cache/tracking.ts): one tracking
 * connection of its own, BCAST on every result key prefix this process may read (the configured one and every
 * token's), metrics. Off with RG_CACHE_MAX_BYTES=0 and in Cluster mode (docs/cache.md says why).
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { Gauge } from 'prom-client'
import { Tally } from './metrics-tally.js'
import { AnswerCache } from '../cache/answer-cache.js'
import { Tracking } from '../cache/tracking.js'
import { taskKeyHead } from '../celery/keys.js'
import type { Config } from '../config.js'
import { closeRedis, redisOptions } from '../redis/connect.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The answer cache; never live when it is off. */
    answers: AnswerCache
  }
}

const P = 'result_gateway_cache_'

function counters (app: FastifyInstance, cache: () => AnswerCache) {
  const registers = [app.metrics.registry]
  // Tallies, not prom-client counters: a hit is the whole of a polled fetch's work, a label hash would be a
  // noticeable part of it.
  const hits = new Tally({ name: `${P}hits_total`, help: 'Fetches (view, raw, not found) answered from the answer cache, without Redis', labelNames: [], registers }).of({})
  const misses = new Tally({ name: `${P}misses_total`, help: 'Fetches the answer cache had no current entry for (read from Redis) while the cache was live', labelNames: [], registers }).of({})
  const invalidations = new Tally({ name: `${P}invalidations_total`, help: 'Keys invalidated by Redis (CLIENT TRACKING messages)', labelNames: [], registers }).of({})
  const flushes = new Tally({ name: `${P}flushes_total`, help: 'Times the whole answer cache was emptied (a connection lost or back, a failover, a flush-all message)', labelNames: [], registers }).of({})
  new Gauge({ name: `${P}bytes`, help: 'Bytes of answers the cache holds (RG_CACHE_MAX_BYTES bounds it)', registers, collect () { this.set(cache().bytes) } }) // eslint-disable-line no-new
  new Gauge({ name: `${P}live`, help: 'Whether the answer cache is in use (1: tracking on and redirected) or not (0: off, or waiting for Redis)', registers, collect () { this.set(cache().live ? 1 : 0) } }) // eslint-disable-line no-new
  return {
    hit: () => { hits.n++ },
    miss: () => { misses.n++ },
    invalidated: (n: number) => { invalidations.n += n },
    flushed: () => { flushes.n++ }
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const cache: AnswerCache = new AnswerCache(config.cache.maxBytes, counters(app, () => cache))
  app.decorate('answers', cache)
  const data = app.redis
  if (config.cache.maxBytes === 0 || data instanceof Cluster) return
  const sub = new Redis({ ...redisOptions(config.redis, 'tracking'), autoResubscribe: false })
  sub.on('error', () => { /* its loss is a flush; the data connection's errors are logged already */ })
  const prefixes = [config.redis.keyPrefix, ...config.auth.tokens.flatMap(t => t.keyPrefix === undefined ? [] : [t.keyPrefix])]
  const tracking = new Tracking(data, sub, cache, {
    prefixes: prefixes.map(taskKeyHead),
    log: app.log,
    timeoutMs: config.redis.commandTimeoutMs
  })
  tracking.start()
  app.addHook('onClose', async () => {
    tracking.stop()
    await closeRedis(sub)
  })
}, { name: 'answer-cache', dependencies: ['redis', 'metrics'] })
