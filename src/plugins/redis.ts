/**
 * Owns the Redis connections: `redis` for data commands (Lua scripts defined) and `redisSubscriber` for
 * pub/sub waiting. Both connect lazily, on first use, and are closed last when the app closes.
 */
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { closeRedis, createRedis, createSubscriber, type RedisClient } from '../redis/connect.js'
import { defineScripts } from '../redis/scripts.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
    redisSubscriber: Redis
  }
}

export default fp<{ config: Config['redis'] }>(async (app, { config }) => {
  const redis = createRedis(config)
  const subscriber = createSubscriber(config, redis)
  defineScripts(redis)
  for (const [role, client] of [['data', redis], ['subscriber', subscriber]] as const) {
    // Without a listener ioredis prints unhandled errors; the message never holds the password.
    client.on('error', (err: Error) => app.log.warn({ role, err: { message: err.message } }, 'redis connection error'))
  }
  app.decorate<RedisClient>('redis', redis)
  app.decorate('redisSubscriber', subscriber)
  app.addHook('onClose', async () => {
    await Promise.all([closeRedis(subscriber), closeRedis(redis)])
  })
}, { name: 'redis' })
