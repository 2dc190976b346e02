/**
 * Waiting for one task's result, as the routes need it: the Waiter wired to the ResultStore (re-read with
 * GET, wake on the key's channel, ready = SUCCESS/FAILURE/REVOKED), reported to the observer.
 */
import type { ResultStore } from './result-store.js'
import type { Waiter } from './waiter.js'
import type { ResultView, WaitResponse } from '../schemas/result.js'

export async function waitForResult (store: ResultStore, waiter: Waiter, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<WaitResponse> {
  const { value, outcome, wokeAt } = await waiter.wait<ResultView | null>({
    channel: store.key(taskId),
    read: () => store.fetch(taskId),
    fromMessage: (payload) => {
      try { return store.decodeView(payload, taskId) } catch { return undefined }
    },
    isReady: (v) => v?.ready === true,
    timeoutMs,
    ...(signal === undefined ? {} : { signal })
  })
  store.observer.waited(outcome, wokeAt === null ? null : Number(process.hrtime.bigint() - wokeAt) / 1e9)
  return {
    timedOut: outcome === 'timeout',
    interrupted: outcome === 'interrupted',
    state: value?.state ?? 'PENDING',
    result: value ?? null
  }
}
