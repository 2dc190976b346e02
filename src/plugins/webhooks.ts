/**
 * Wires webhooks (src/webhooks) onto the instance: `app.webhooks` for the routes, metrics always; with
 * RG_WEBHOOK_SECRET set, a subscriber connection watching results and a blocking connection reading the queue,
 * started once the app is ready and stopped when it closes (before Redis is quit).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { ResultViews } from '../celery/view.js'
import { closeRedis, createSubscriber } from '../redis/connect.js'
import { Listener } from '../webhooks/listener.js'
import { webhookMetrics } from '../webhooks/metrics.js'
import { Webhooks, type Viewer } from '../webhooks/service.js'
import { Worker } from '../webhooks/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const observer = webhookMetrics(app.metrics.registry)
  // The view exactly as GET /v1/results/{taskId} makes it (celery/view.ts); without the app's observer, so
  // deliveries do not count as fetches in the metrics.
  const views = new ResultViews({ maxInflatedBytes: config.results.maxBytes })
  const view: Viewer = (_prefix, taskId, raw) => {
    const v = views.text(raw, taskId)
    return { state: v.state, body: v.body }
  }
  const webhooks = new Webhooks({
    redis: app.redis,
    settings: config.webhooks,
    gatewayPrefix: config.redis.keyPrefix,
    resultTtlSeconds: config.results.ttlSeconds,
    view,
    consumer: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  })
  app.decorate('webhooks', webhooks)
  if (!webhooks.enabled) return

  const subscriber = createSubscriber(config.redis, app.redis)
  const blocking = app.redis.duplicate()
  // Both reconnect by themselves; the worker and the listener log what fails (messages only, never arguments).
  for (const client of [subscriber, blocking]) client.on('error', () => {})
  const log = app.log.child({ component: 'webhooks' })
  const prefixes = [config.redis.keyPrefix, ...config.auth.tokens.flatMap(t => t.keyPrefix === undefined ? [] : [t.keyPrefix])]
  const listener = new Listener(webhooks, subscriber, prefixes, log)
  const worker = new Worker(webhooks, blocking, observer, log)
  app.addHook('onReady', async () => {
    // Not awaited: the app listens while Redis is still unreachable (readiness says so), and webhooks start when it is.
    const start = async (): Promise<void> => {
      for (;;) {
        try {
          await listener.start()
          await worker.start()
          return
        } catch (err) {
          log.warn({ err: { type: (err as Error).name, message: (err as Error).message } }, 'webhooks not started yet: retrying')
          await new Promise(resolve => setTimeout(resolve, 1000))
          if (stopped) return
        }
      }
    }
    starting = start()
  })
  let stopped = false
  let starting: Promise<void> | undefined
  app.addHook('preClose', async () => {
    stopped = true
    await starting
    await Promise.all([listener.stop(), worker.stop()])
    await closeRedis(subscriber)
  })
}, { name: 'webhooks', dependencies: ['redis', 'metrics', 'celery'] })
