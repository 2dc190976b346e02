/**
 * Tracing off: no endpoint, or OTEL_SDK_DISABLED=true. A real gateway process (with the tracing preload, as
 * npm start runs it): nothing of OpenTelemetry is imported and nothing is exported.
 */
import t from 'tap'
import { startOtlpReceiver } from '../helpers/otlp-receiver.js'
import { headers, otelModules, traceparent, tracedGateway as gateway } from '../helpers/traced-gateway.js'

// Both at once: each starts a gateway under tsx, slow on a loaded machine (tap's 120 s is per file).
t.jobs = 2

t.test('no endpoint: nothing of OpenTelemetry is loaded and log lines carry no trace id', { buffered: true }, async t => {
  const { srv, base, modules } = await gateway(t, { OTEL_SERVICE_NAME: 'untraced' })
  const caller = traceparent()
  t.equal((await fetch(`${base}/v1/results/nothing-here`, { headers: { ...headers, traceparent: caller.header } })).status, 404)
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
  t.ok(modules().some(u => u.includes('/src/tracing/register.ts')), 'the preload ran (the module log sees it)')
  t.same(otelModules(modules()), [], 'no OpenTelemetry module imported')
  t.notMatch(srv.output(), /trace_id/)
})

t.test('OTEL_SDK_DISABLED=true: an endpoint set, yet no export is attempted and the SDK is not loaded', { buffered: true }, async t => {
  const receiver = await startOtlpReceiver(t)
  const { srv, base, modules } = await gateway(t, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'TRUE', OTEL_BSP_SCHEDULE_DELAY: '200' })
  for (let i = 0; i < 5; i++) await fetch(`${base}/v1/results/nothing-${i}`, { headers: { ...headers, traceparent: traceparent().header } })
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
  t.equal(receiver.requests(), 0, 'the receiver got nothing')
  t.same(otelModules(modules()), [])
})
