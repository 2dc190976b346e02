/**
 * The gateway's own span attributes: names in one place, values built from what a route or a wait already
 * knows. Never a token, password, stored value or request body: ids and outcomes only.
 */
import type { WaitOutcome } from '../celery/waiter.js'

export type SpanAttributes = Record<string, string | number | boolean>

export const ATTR_TASK_ID = 'result_gateway.task_id'
export const ATTR_GROUP_ID = 'result_gateway.group_id'
export const ATTR_WAIT_OUTCOME = 'result_gateway.wait.outcome'
export const ATTR_WAIT_TIMEOUT_MS = 'result_gateway.wait.timeout_ms'
export const ATTR_WAKE_LATENCY_SECONDS = 'result_gateway.wait.wake_latency_seconds'
export const ATTR_PUBLISH_RECEIVERS = 'result_gateway.publish.receivers'
export const ATTR_STORE_APPLIED = 'result_gateway.store.applied'

/** The route's path parameters that name a task or a group (raw, as sent: validation runs later). */
export function idAttributes (params: unknown): SpanAttributes {
  const out: SpanAttributes = {}
  if (typeof params !== 'object' || params === null) return out
  const { taskId, groupId } = params as { taskId?: unknown, groupId?: unknown }
  if (typeof taskId === 'string') out[ATTR_TASK_ID] = taskId
  if (typeof groupId === 'string') out[ATTR_GROUP_ID] = groupId
  return out
}

/**
 * How a wait ended: `woken` (a PUBLISH made it ready), `ready` (a read found it ready), `timed_out`,
 * `interrupted` (shutdown) or `cancelled` (client gone, or another id of an `any` batch answered first).
 */
export function waitAttributes (outcome: WaitOutcome, wakeLatencySeconds: number | null): SpanAttributes {
  const name = outcome === 'ready' ? (wakeLatencySeconds === null ? 'ready' : 'woken') : outcome === 'timeout' ? 'timed_out' : outcome
  return wakeLatencySeconds === null
    ? { [ATTR_WAIT_OUTCOME]: name }
    : { [ATTR_WAIT_OUTCOME]: name, [ATTR_WAKE_LATENCY_SECONDS]: wakeLatencySeconds }
}
