/**
 * The gateway's own span attributes: names in one place, values built from what a route, a wait or a webhook
 * delivery already knows. Never a token, password, secret, stored value, body or query string: ids and outcomes.
 */
import type { RequestOptions } from 'node:http'
import type { WaitOutcome } from '../celery/waiter.js'

export type SpanAttributes = Record<string, string | number | boolean>

export const ATTR_TASK_ID = 'result_gateway.task_id'
export const ATTR_GROUP_ID = 'result_gateway.group_id'
export const ATTR_WAIT_OUTCOME = 'result_gateway.wait.outcome'
export const ATTR_WAIT_TIMEOUT_MS = 'result_gateway.wait.timeout_ms'
export const ATTR_WAKE_LATENCY_SECONDS = 'result_gateway.wait.wake_latency_seconds'
export const ATTR_PUBLISH_RECEIVERS = 'result_gateway.publish.receivers'
export const ATTR_STORE_APPLIED = 'result_gateway.store.applied'
export const ATTR_WEBHOOK_KIND = 'result_gateway.webhook.kind'
export const ATTR_WEBHOOK_ATTEMPT = 'result_gateway.webhook.attempt'
export const ATTR_WEBHOOK_ID = 'result_gateway.webhook.id'
export const ATTR_WEBHOOK_OUTCOME = 'result_gateway.webhook.outcome'
export const ATTR_HTTP_STATUS = 'http.response.status_code'

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

/**
 * A webhook delivery attempt, before it is made: the subscription kind (`task` or `standing`), the task, the
 * attempt number (1 = first), the webhook-id and the target's host and port (from the URL; nothing of its path
 * or query, which may carry the receiver's credential).
 */
export function deliveryAttributes (kind: string, taskId: string, attempt: number, webhookId: string, url: string): SpanAttributes {
  const out: SpanAttributes = { [ATTR_WEBHOOK_KIND]: kind, [ATTR_TASK_ID]: taskId, [ATTR_WEBHOOK_ATTEMPT]: attempt, [ATTR_WEBHOOK_ID]: webhookId }
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return out
  }
  out['server.address'] = target.hostname.replace(/^\[|\]$/g, '')
  out['server.port'] = target.port === '' ? (target.protocol === 'https:' ? 443 : 80) : Number(target.port)
  return out
}

/**
 * `url.full` of an outgoing request's client span (the HTTP instrumentation's, under a delivery span), without
 * the query string: a webhook URL's query may carry the receiver's token. The default port is left out, as the
 * instrumentation does.
 */
export function outgoingUrlFull (o: RequestOptions): string {
  const protocol = o.protocol ?? 'http:'
  const host = o.hostname ?? o.host ?? 'localhost'
  const port = o.port === undefined || o.port === null ? '' : String(o.port)
  const shownPort = port === '' || port === (protocol === 'https:' ? '443' : '80') ? '' : `:${port}`
  return `${protocol}//${host.includes(':') ? `[${host}]` : host}${shownPort}${(o.path ?? '/').split('?')[0] ?? ''}`
}
