/**
 * SIGTERM as a rolling update needs it: Kubernetes takes a terminating pod out of the Service endpoints
 * asynchronously (kube-proxy, ingress controllers lag a second or more) and keeps sending it new connections
 * until then. So: mark not ready at once, keep accepting and answering for the drain, and only then close
 * (stop accepting, answer waiters "interrupted", finish in-flight requests; Redis is closed last by onClose).
 */
import type { FastifyInstance } from 'fastify'

export interface ShutdownTimes {
  /** How long /readyz says 503 while everything else is still served. */
  drainSeconds: number
  /** How long in-flight requests get after the drain before the process exits anyway. */
  graceSeconds: number
}

/** close-with-grace's delay: past it the process exits 1, so it covers the drain and the grace. */
export function shutdownDeadlineMs (s: ShutdownTimes): number {
  return (s.drainSeconds + s.graceSeconds) * 1000
}

/** Drains, then closes the app (its onClose hooks quit Redis last). Resolves once everything is closed. */
export async function drainThenClose (app: FastifyInstance, s: ShutdownTimes): Promise<void> {
  app.lifecycle.draining = true
  if (s.drainSeconds > 0) {
    app.log.info({ drainSeconds: s.drainSeconds }, 'draining: /readyz answers 503, requests are still served')
    await new Promise(resolve => setTimeout(resolve, s.drainSeconds * 1000))
  }
  app.log.info({ graceSeconds: s.graceSeconds }, 'drain over: closing (no new connections, waiters interrupted)')
  await app.close()
}
