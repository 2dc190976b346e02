/**
 * Spans of the gateway's own work (waits, stores, webhook deliveries), written against this tiny API
 * so that nothing here loads OpenTelemetry: sdk.ts hands the API in when tracing is on; when off every helper
 * runs the function with a no-op span. Type imports only (erased at build).
 */
import type * as OtelApi from '@opentelemetry/api'
import type { SpanAttributes } from './attributes.js'

type Api = typeof OtelApi

export interface SpanHandle {
  setAttributes: (attributes: SpanAttributes) => void
  /**
   * Marks the span failed, `error.type` being the error's code or name (never its message: it may quote a
   * value), or the reason code given as a string (a webhook attempt's `ECONNREFUSED`, `timeout`, `500`).
   */
  fail: (err: unknown) => void
  end: () => void
}

const NOOP: SpanHandle = { setAttributes () {}, fail () {}, end () {} }

/** `internal`: the gateway's own work; `client`: a call it makes to another service (a webhook delivery). */
export type SpanKindName = 'internal' | 'client'

let active: { api: Api, tracer: OtelApi.Tracer, flush: () => Promise<void> } | undefined

/** Called once by sdk.ts after the SDK started. */
export function useTracing (api: Api, flush: () => Promise<void>): void {
  active = { api, tracer: api.trace.getTracer('result-gateway'), flush }
}

/** True when the SDK runs (for tests and the bench; the helpers below need no check). */
export function tracingActive (): boolean {
  return active !== undefined
}

/** Ends the SDK: exports the spans still batched. Called by server.ts at shutdown; a no-op when off. */
export async function flushTracing (): Promise<void> {
  await active?.flush()
}

function handle (api: Api, span: OtelApi.Span): SpanHandle {
  return {
    setAttributes: (attributes) => { span.setAttributes(attributes) },
    fail: (err) => {
      const code = typeof err === 'string'
        ? err
        : typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : err instanceof Error ? err.name : 'Error'
      span.setAttribute('error.type', code)
      span.setStatus({ code: api.SpanStatusCode.ERROR })
    },
    end: () => { span.end() }
  }
}

/**
 * Runs `fn` inside a new span (a child of the active one: the request's; a root outside any request), and
 * leaves ending it to the caller — for work whose end is later than fn's (a wait's span ends when its answer
 * is written).
 */
export function inSpan<T> (name: string, attributes: SpanAttributes, fn: (span: SpanHandle) => T, kind: SpanKindName = 'internal'): T {
  if (active === undefined) return fn(NOOP)
  const { api, tracer } = active
  const span = tracer.startSpan(name, { attributes, kind: kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL })
  return api.context.with(api.trace.setSpan(api.context.active(), span), fn, undefined, handle(api, span))
}

/**
 * Runs `fn` inside a new span that ends when fn settles; a rejection marks it failed and is rethrown. With
 * tracing off, fn's own promise (no wrappers: a store, the hottest write, went through three of them).
 */
export async function withSpan<T> (name: string, attributes: SpanAttributes, fn: (span: SpanHandle) => Promise<T> | T, kind: SpanKindName = 'internal'): Promise<T> {
  if (active === undefined) return await fn(NOOP)
  return await inSpan(name, attributes, async span => {
    try {
      return await fn(span)
    } catch (err) {
      span.fail(err)
      throw err
    } finally {
      span.end()
    }
  }, kind)
}
