/**
 * The gateway's domain spans beyond a wait's (wait-result.ts opens that one): a store, which is also the
 * PUBLISH that wakes waiters (the Lua script does both, so one span names the channel).
 */
import { ATTR_PUBLISH_RECEIVERS, ATTR_STORE_APPLIED, ATTR_TASK_ID } from './attributes.js'
import { tracingActive, withSpan } from './span.js'

/**
 * Runs the store script inside a `result_gateway.store` span: the channel it publishes on (Celery's: the key
 * name), whether it was applied and how many subscribers received the publish. `[applied, info]` is the
 * script's reply for the key (storeResults-n.lua).
 */
export async function storeSpan<T extends readonly [unknown, unknown]> (taskId: string, channel: string, store: () => Promise<T>): Promise<T> {
  if (!tracingActive()) return await store()
  return await withSpan('result_gateway.store', { [ATTR_TASK_ID]: taskId, 'messaging.system': 'redis', 'messaging.destination.name': channel }, async span => {
    const reply = await store()
    const applied = reply[0] === 1
    span.setAttributes(applied ? { [ATTR_STORE_APPLIED]: true, [ATTR_PUBLISH_RECEIVERS]: Number(reply[1]) } : { [ATTR_STORE_APPLIED]: false })
    return reply
  })
}
