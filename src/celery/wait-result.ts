/**
 * Waiting for one task's result, as the routes need it: the Waiter wired to the ResultStore (re-read with
 * GET, wake on the key's channel) and the views (bytes → view, ready = SUCCESS/FAILURE/REVOKED), reported to
 * the observer.
 * `answered` (optional) resolves when the route's answer has been written: the wait is reported then, so the
 * wake latency covers building and writing the answer, the part a client actually waits for.
 */
import type { ResultStore } from './result-store.js'
import type { ResultViews, ViewText } from './view.js'
import type { Waiter, WaitOutcome } from './waiter.js'
import type { ResultView, WaitResponse } from '../schemas/result.js'
import { ATTR_TASK_ID, ATTR_WAIT_TIMEOUT_MS, waitAttributes } from '../tracing/attributes.js'
import { inSpan, type SpanHandle } from '../tracing/span.js'

function report (views: ResultViews, outcome: WaitOutcome, wokeAt: bigint | null, span: SpanHandle, answered?: Promise<unknown>): void {
  const done = (): void => {
    const latency = wokeAt === null ? null : Number(process.hrtime.bigint() - wokeAt) / 1e9
    views.observer.waited(outcome, latency)
    span.setAttributes(waitAttributes(outcome, latency))
    span.end()
  }
  if (answered === undefined) done()
  else answered.then(done, done)
}

/**
 * One task's wait, whatever the value is built as: `read` re-reads the stored value, `decode` turns a
 * published payload into the same kind of value (undefined when it cannot be decoded: re-read instead).
 */
async function waitOne<T extends { ready: boolean, state: string }> (store: ResultStore, views: ResultViews, waiter: Waiter, taskId: string, timeoutMs: number,
  read: () => Promise<T | null>, decode: (payload: Buffer) => T, signal?: AbortSignal, answered?: Promise<unknown>): Promise<{ value: T | null | undefined, outcome: WaitOutcome }> {
  // The wait's span (its SUBSCRIBE and GETs are children) ends with the report: how it ended, the wake latency.
  return await inSpan('result_gateway.wait', { [ATTR_TASK_ID]: taskId, [ATTR_WAIT_TIMEOUT_MS]: timeoutMs }, async span => {
    try {
      return await waitTraced(store, views, waiter, taskId, timeoutMs, read, decode, span, signal, answered)
    } catch (err) {
      span.fail(err)
      span.end()
      throw err
    }
  })
}

async function waitTraced<T extends { ready: boolean, state: string }> (store: ResultStore, views: ResultViews, waiter: Waiter, taskId: string, timeoutMs: number,
  read: () => Promise<T | null>, decode: (payload: Buffer) => T, span: SpanHandle, signal?: AbortSignal, answered?: Promise<unknown>): Promise<{ value: T | null | undefined, outcome: WaitOutcome }> {
  const { value, outcome, wokeAt } = await waiter.wait<T | null>({
    channel: store.channel(taskId),
    read,
    fromMessage: (payload) => {
      try { return decode(payload) } catch { return undefined }
    },
    isReady: (v) => v?.ready === true,
    timeoutMs,
    ...(signal === undefined ? {} : { signal })
  })
  report(views, outcome, wokeAt, span, answered)
  return { value, outcome }
}

export async function waitForResult (store: ResultStore, views: ResultViews, waiter: Waiter, taskId: string, timeoutMs: number, signal?: AbortSignal, answered?: Promise<unknown>): Promise<WaitResponse> {
  const { value, outcome } = await waitOne<ResultView>(store, views, waiter, taskId, timeoutMs,
    () => store.readDocument(taskId).then(document => document === null ? null : views.decode(document, taskId)),
    (payload) => views.decode(payload, taskId), signal, answered)
  return {
    timedOut: outcome === 'timeout',
    interrupted: outcome === 'interrupted',
    state: value?.state ?? 'PENDING',
    result: value ?? null
  }
}

/**
 * waitForResult's answer as JSON text, the same document the response schema would serialize: the view is
 * built from the stored or published bytes by the fetch route's fast path (result sliced out as text, never
 * parsed and re-serialized), which is most of the cost of a wake-up with a large result.
 */
export async function waitForView (store: ResultStore, views: ResultViews, waiter: Waiter, taskId: string, timeoutMs: number, signal?: AbortSignal, answered?: Promise<unknown>): Promise<string> {
  const { value, outcome } = await waitOne<ViewText>(store, views, waiter, taskId, timeoutMs,
    () => store.readDocument(taskId).then(document => document === null ? null : views.text(document, taskId)),
    (payload) => views.text(payload, taskId), signal, answered)
  return `{"timedOut":${String(outcome === 'timeout')},"interrupted":${String(outcome === 'interrupted')}` +
    `,"state":${JSON.stringify(value?.state ?? 'PENDING')},"result":${value?.body ?? 'null'}}`
}

export interface ManyResult {
  timedOut: boolean
  interrupted: boolean
  results: Array<{ taskId: string, state: string, ready: boolean, result: ResultView | null }>
}

/**
 * Waits for several tasks over the shared subscriber: `all` answers when every result is ready, `any` at the
 * first ready one (the other waits are released at once). One timeout for the lot.
 */
export async function waitForMany (store: ResultStore, views: ResultViews, waiter: Waiter, taskIds: string[], mode: 'all' | 'any', timeoutMs: number, signal?: AbortSignal, answered?: Promise<unknown>): Promise<ManyResult> {
  const done = new AbortController()
  const stop = (): void => done.abort()
  signal?.addEventListener('abort', stop, { once: true })
  const waits = taskIds.map(id => waitForResult(store, views, waiter, id, timeoutMs, done.signal, answered))
  try {
    if (mode === 'any') {
      // The first answer is a ready result, a timeout or a shutdown: either way the others stop now.
      await Promise.race(waits)
      done.abort()
    }
    const answers = await Promise.all(waits)
    const ready = answers.filter(a => a.result?.ready === true).length
    return {
      timedOut: mode === 'all' ? ready < answers.length : ready === 0,
      interrupted: answers.some(a => a.interrupted),
      results: answers.map((a, i) => ({ taskId: taskIds[i] ?? '', state: a.state, ready: a.result?.ready === true, result: a.result }))
    }
  } finally {
    done.abort()
    signal?.removeEventListener('abort', stop)
  }
}
