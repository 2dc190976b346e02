/**
 * Closed label sets and buckets for the HTTP metrics: the exact status (only those the gateway can send),
 * which routes are long-polls, and wait-duration buckets that end at RG_WAIT_MAX_SECONDS.
 */
import { PROBLEM_TYPES } from '../errors.js'

/**
 * Statuses the gateway answers with: its routes' successes, every coded problem, and the ones Fastify itself
 * sends (405 wrong method, 406/408/414/431 from the HTTP layer). Anything else is counted as "other", so a
 * new status can never grow the label set without a change here.
 */
export const STATUS_CODES: ReadonlySet<number> = new Set([
  200, 201, 204, 304,
  ...Object.values(PROBLEM_TYPES).map(p => p.status),
  400, 404, 405, 406, 408, 413, 414, 415, 431, 500, 502, 503, 504
])

export function statusLabel (status: number): string {
  return STATUS_CODES.has(status) ? String(status) : 'other'
}

/**
 * Long-polls and streams (waits up to RG_WAIT_MAX_SECONDS, SSE for as long as the client stays): their time is
 * the task's, not the gateway's, so they go to the wait-duration histogram instead of the latency one.
 */
export function isLongPoll (routeTemplate: string): boolean {
  return /(\/wait|\/events|:batchWait)$/.test(routeTemplate)
}

const WAIT_STEPS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600]

/** Buckets below the longest allowed wait, then that wait itself (a wait ending at its timeout lands there). */
export function waitBuckets (maxSeconds: number): number[] {
  const top = Math.max(maxSeconds, 0.01)
  return [...WAIT_STEPS.filter(b => b < top), top]
}
