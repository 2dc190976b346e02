/**
 * Owns the Redis connections: `redis` for data commands (Lua scripts defined), `redisSubscriber` for
 * pub/sub waiting, `redisDurable`, the pool durable stores run their WAIT on, and `redisRateLimit`, the
 * rate limiter's own (its counts are bounded apart from data commands). All connect lazily, on first use,
 * and are closed last when the app closes.
 * `redisInfo` keeps every master's INFO (memory, evictions, replicas) fresh for answers, durable stores and metrics.
 */
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { BurstLog } from '../logging/burst-log.js'
import { serializeError } from '../logging/serialize-error.js'
import type { RedisSettings } from '../redis/settings.js'
import { closeRedis, createRedis, createSubscriber, type RedisClient } from '../redis/connect.js'
import { DurablePool } from '../redis/durable-pool.js'
import { watchAuth } from '../redis/auth-state.js'
import { RedisInfoWatch } from '../redis/info-watch.js'
import { defineScripts } from '../redis/scripts.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
    redisSubscriber: Redis
    redisDurable: DurablePool
    redisRateLimit: RedisClient
    redisInfo: RedisInfoWatch
  }
}

export default fp<{ config: RedisSettings }>(async (app, { config }) => {
  const redis = createRedis(config)
  const subscriber = createSubscriber(config, redis)
  const rateLimit = createRedis(config, 'rate-limit')
  defineScripts(redis)
  // Without a listener ioredis prints unhandled errors. Only the message is logged (never a command's args),
  // once per burst per connection role: a reconnect loop against a gone Redis repeats itself.
  const bursts = new BurstLog()
  const onError = (role: string) => (err: Error) => {
    const folded = bursts.take(role)
    if (folded !== null) app.log.warn({ role, err: serializeError(err, false), folded }, 'redis connection error')
  }
  for (const [role, client] of [['data', redis], ['subscriber', subscriber], ['rate-limit', rateLimit]] as const) {
    client.on('error', onError(role))
    watchAuth(client)
  }
  const info = new RedisInfoWatch(redis)
  const durable = new DurablePool(config, onError('durable'), info)
  app.decorate<RedisClient>('redis', redis)
  app.decorate('redisSubscriber', subscriber)
  app.decorate('redisDurable', durable)
  app.decorate<RedisClient>('redisRateLimit', rateLimit)
  app.decorate('redisInfo', info)
  app.addHook('onReady', async () => { info.start() })
  app.addHook('onClose', async () => {
    info.stop()
    await Promise.all([closeRedis(subscriber), closeRedis(redis), closeRedis(rateLimit), durable.close()])
  })
}, { name: 'redis' })
