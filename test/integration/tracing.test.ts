/**
 * OpenTelemetry end to end: a real gateway process (with the tracing preload, as npm start runs it) against a
 * real redis-server, exporting to a small OTLP/HTTP receiver in this test, for both http/protobuf and http/json.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js'
import { headers, logLines, otelModules, TOKEN, traceparent, tracedGateway as gateway } from '../helpers/traced-gateway.js'
import { until } from '../helpers/until.js'

const SERVER_KIND = 2
const CLIENT_KIND = 3

// Both protocols at once: each starts a gateway under tsx, slow on a loaded machine (tap's 120 s is per file).
t.jobs = 2
for (const protocol of ['http/protobuf', 'http/json'] as const) {
  t.test(`${protocol}: spans reach the collector, continue the caller's trace, and the logs carry its id`, { buffered: true }, async t => {
    const receiver = await startOtlpReceiver(t)
    const service = `rg-test-${protocol.replace('/', '-')}`
    const { srv, base, modules } = await gateway(t, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: service,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      OTEL_BSP_SCHEDULE_DELAY: '200'
    })
    const taskId = `traced-${randomBytes(4).toString('hex')}`
    t.equal((await fetch(`${base}/v1/results/${taskId}`, { method: 'PUT', headers, body: '{"state":"SUCCESS","result":42}' })).status, 200)

    const caller = traceparent()
    const res = await fetch(`${base}/v1/results/${taskId}`, { headers: { ...headers, traceparent: caller.header, tracestate: 'vendor=opaque', baggage: 'tenant=blue' } })
    t.equal(res.status, 200)
    const inTrace = (): ReceivedSpan[] => receiver.spans().filter(s => s.traceId === caller.traceId)
    await until(() => inTrace().some(s => s.kind === SERVER_KIND) && inTrace().some(s => s.kind === CLIENT_KIND), 'the request\'s spans to be exported')

    const spans = inTrace()
    const server = spans.find(s => s.kind === SERVER_KIND)
    t.ok(server, 'a server span in the caller\'s trace')
    t.equal(server?.name, 'GET /v1/results/:taskId', 'named by method and route template')
    t.equal(server?.parentSpanId, caller.parentId, 'parented on the incoming traceparent')
    t.equal(server?.service, service, 'OTEL_SERVICE_NAME')
    t.equal(server?.resource['deployment.environment.name'], 'test', 'OTEL_RESOURCE_ATTRIBUTES')
    t.match(server?.attributes, { 'http.route': '/v1/results/:taskId', 'http.response.status_code': 200, 'result_gateway.task_id': taskId })
    const redis = spans.filter(s => s.kind === CLIENT_KIND)
    t.ok(redis.length > 0, 'Redis command spans in the same trace')
    for (const span of redis) {
      t.equal(span.attributes['db.system.name'], 'redis')
      t.equal(span.attributes['db.query.text'], span.name, `${span.name}: the command name only, no values`)
    }
    // A read ticket in the query (EventSource) is a credential: redacted in url.query.
    const ticket = `tk-${randomBytes(8).toString('hex')}`
    await fetch(`${base}/v1/results/${taskId}?ticket=${ticket}`)
    await until(() => receiver.spans().some(s => String(s.attributes['url.query'] ?? '').startsWith('ticket=')), 'the ticketed request\'s span')
    for (const span of receiver.spans()) {
      t.notMatch(JSON.stringify(span.attributes), ticket, `${span.name}: no read ticket in any attribute`)
      t.notMatch(JSON.stringify(span.attributes), TOKEN, `${span.name}: no token in any attribute`)
      t.notMatch(JSON.stringify(span.attributes), '"result":42', `${span.name}: no body in any attribute`)
    }

    // Every line of that request carries the trace (Fastify's own "incoming request" and "request completed").
    const lines = logLines(srv.output()).filter(l => l.trace_id === caller.traceId)
    t.ok(lines.some(l => l.msg === 'incoming request'), 'the request\'s first log line has its trace id')
    t.ok(lines.some(l => l.msg === 'request completed'), 'and its last')
    for (const l of lines) t.match(l, { span_id: /^[0-9a-f]{16}$/, reqId: String }, 'span id next to the request id')
    t.ok(otelModules(modules()).length > 0, 'the SDK is loaded (the module log sees it)')

    // A store publishes (a span naming the channel), a wait records how it ended and its wake latency.
    const waitId = `wait-${randomBytes(4).toString('hex')}`
    const waitTrace = traceparent()
    const waiting = fetch(`${base}/v1/results/${waitId}/wait?timeoutSeconds=60`, { headers: { ...headers, traceparent: waitTrace.header } })
    await until(() => logLines(srv.output()).some(l => l.trace_id === waitTrace.traceId && l.msg === 'incoming request'), 'the wait to arrive')
    await until(async () => {
      await fetch(`${base}/v1/results/${waitId}`, { method: 'PUT', headers, body: '{"state":"STARTED"}' })
      return receiver.spans().some(s => s.name === 'result_gateway.store' && s.attributes['result_gateway.task_id'] === waitId && s.attributes['result_gateway.publish.receivers'] === 1)
    }, 'a store whose publish reached the waiter')
    await fetch(`${base}/v1/results/${waitId}`, { method: 'PUT', headers, body: '{"state":"SUCCESS","result":1}' })
    t.equal((await waiting).status, 200)
    const timedOut = await fetch(`${base}/v1/results/none-${waitId}/wait?timeoutSeconds=0`, { headers })
    t.equal(timedOut.status, 200)
    await until(() => receiver.spans().filter(s => s.name === 'result_gateway.wait').length >= 2, 'both waits\' spans')
    const waits = receiver.spans().filter(s => s.name === 'result_gateway.wait')
    const woken = waits.find(s => s.attributes['result_gateway.task_id'] === waitId)
    t.equal(woken?.traceId, waitTrace.traceId, 'the wait span is in its request\'s trace')
    t.equal(woken?.attributes['result_gateway.wait.outcome'], 'woken')
    t.type(woken?.attributes['result_gateway.wait.wake_latency_seconds'], 'number', 'with the wake latency')
    t.equal(waits.find(s => s.attributes['result_gateway.task_id'] === `none-${waitId}`)?.attributes['result_gateway.wait.outcome'], 'timed_out')
    const store = receiver.spans().find(s => s.name === 'result_gateway.store' && s.attributes['result_gateway.task_id'] === waitId)
    t.equal(store?.attributes['messaging.destination.name'], `celery-task-meta-${waitId}`, 'the store span names the channel it publishes on')

    srv.child.kill('SIGTERM')
    t.equal(await srv.exited, 0, 'the SDK flushes and the process exits 0')
    t.ok(receiver.exports.every(e => e.path === '/v1/traces'), 'traces only (no metrics or logs export unless asked for)')
    t.ok(receiver.exports.every(e => e.contentType.startsWith(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf')), `sent as ${protocol}`)
  })
}
