/**
 * The webhook metrics (result_gateway_webhook_*), registered on the app's registry whether webhooks are on or
 * not, so dashboards and alerts see zeros instead of missing series. Labels are closed sets (outcomes).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { WebhookObserver } from './worker.js'

const P = 'result_gateway_webhook_'
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function webhookMetrics (registry: Registry): WebhookObserver {
  const registers = [registry]
  const deliveries = new Counter({ name: `${P}deliveries_total`, help: 'Webhook deliveries finished, by outcome (delivered, failed after the last attempt, cancelled by 410 Gone, dropped: subscription removed or replaced) and attempts rescheduled (retried)', labelNames: ['outcome'] as const, registers })
  const attempts = new Histogram({ name: `${P}attempt_duration_seconds`, help: 'Duration of one webhook delivery attempt (resolve, connect, response), by outcome (success, http_error, redirect, timeout, connection_error, refused)', labelNames: ['outcome'] as const, buckets: ATTEMPT_BUCKETS, registers })
  const depth = new Gauge({ name: `${P}queue_depth`, help: 'Webhook deliveries queued in Redis (all replicas), by queue: ready (in the stream, incl. in flight) or retrying (waiting for their next attempt)', labelNames: ['queue'] as const, registers, aggregator: 'first' })
  const oldest = new Gauge({ name: `${P}oldest_pending_age_seconds`, help: 'Age of the oldest webhook delivery not yet finished (since first enqueued); 0 when the queue is empty', registers, aggregator: 'first' })
  for (const outcome of ['delivered', 'failed', 'cancelled', 'dropped', 'retried']) deliveries.inc({ outcome }, 0)
  for (const queue of ['ready', 'retrying']) depth.set({ queue }, 0)
  oldest.set(0)
  return {
    attempted: (outcome, seconds) => attempts.observe({ outcome }, seconds),
    finished: (outcome) => deliveries.inc({ outcome }),
    depth: (ready, retrying, age) => {
      depth.set({ queue: 'ready' }, ready)
      depth.set({ queue: 'retrying' }, retrying)
      oldest.set(age)
    }
  }
}
