/**
 * The OpenTelemetry Node SDK as the gateway runs it, loaded by register.ts only when tracing is on. The SDK
 * reads the standard variables itself (OTEL_EXPORTER_OTLP_* protocol/endpoint/headers/timeout, OTEL_TRACES_SAMPLER
 * and _ARG, OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, OTEL_PROPAGATORS, OTEL_TRACES_EXPORTER); this
 * file adds only the gateway's choices: the default service name, the instrumentations and the shutdown flush.
 */
import { register } from 'node:module'
import * as api from '@opentelemetry/api'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino'
import { NodeSDK, resources } from '@opentelemetry/sdk-node'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { idAttributes, outgoingUrlFull } from './attributes.js'
import { useTracing } from './span.js'

type Env = Record<string, string | undefined>

/** Probes and scrapes every few seconds would bury the requests people trace: no spans for them. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics'])

function instrumentations (): Instrumentation[] {
  return [
    // The SERVER span: starts when the request arrives, so every log line of the request (Fastify's own
    // "incoming request" too) is inside it; named `METHOD /route/template` from the route @fastify/otel reports.
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0] ?? ''),
      // url.query is recorded: an EventSource read ticket (?ticket=) is a credential. The other four are the
      // instrumentation's own defaults, which this list replaces.
      redactedQueryParamsServer: ['ticket', 'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'],
      // The one outgoing HTTP the gateway makes is a webhook delivery: its POST span nests under the delivery's
      // span (webhooks/worker.ts) and sends the traceparent; none outside a trace (the OTLP exporter's own).
      requireParentforOutgoingSpans: true,
      // url.full without the query string (a webhook URL's query may carry the receiver's token); the
      // instrumentation redacts only a few named parameters, and this replaces its value.
      startOutgoingSpanHook: (request) => ({ 'url.full': outgoingUrlFull(request) })
    }),
    // Fastify's own: the route template, context carried into the handler. Hooks are not spans of their own
    // (a dozen per request would hide the Redis calls), the handler is.
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      instrumentHooks: false,
      requestHook: (span, request) => {
        const ids = idAttributes(request.params)
        // @fastify/otel records request.url, query included: keep the path only (a ?ticket= is a credential).
        span.setAttributes({ ...ids, 'url.path': request.url.split('?')[0] ?? '' })
        // The active span is the HTTP server span, the one a trace view shows for this service.
        api.trace.getActiveSpan()?.setAttributes(ids)
      }
    }),
    // Command names only, never arguments (values, keys of other tenants, AUTH passwords); only inside a
    // trace (requireParentSpan, the default), so background reads (the waiter's sweep, probes) make none.
    new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    // trace_id, span_id, trace_flags on every pino line written inside a span; the lines stay on stdout only.
    new PinoInstrumentation({ disableLogSending: true })
  ]
}

export function startTracing (env: Env): void {
  // ESM: ioredis and pino are imported, not required; the hook lets their instrumentations patch them. Only
  // those two are wrapped (every other module loads as it would without tracing).
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis', 'pino'] } })
  const sdk = new NodeSDK({
    // The default name; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (read by the SDK) override it.
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': 'result-gateway' })),
    instrumentations: instrumentations(),
    // Traces only, unless metrics or logs exports are asked for by name: the gateway's metrics are Prometheus'.
    ...(env.OTEL_METRICS_EXPORTER === undefined ? { metricReaders: [] } : {}),
    ...(env.OTEL_LOGS_EXPORTER === undefined ? { logRecordProcessors: [] } : {})
  })
  sdk.start()
  useTracing(api, () => sdk.shutdown())
}
