import t from 'tap'
import { tracingWanted } from '../../src/tracing/enabled.js'
import { deliveryAttributes, idAttributes, outgoingUrlFull, waitAttributes } from '../../src/tracing/attributes.js'
import { failureReason } from '../../src/webhooks/deliver.js'

t.test('tracing is on only with an OTLP endpoint, and OTEL_SDK_DISABLED=true wins', async t => {
  t.equal(tracingWanted({}), false, 'nothing set')
  t.equal(tracingWanted({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), false, 'no endpoint: off')
  t.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), false, 'a blank endpoint is unset')
  t.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true)
  t.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true)
  for (const v of ['true', 'TRUE', ' True ']) t.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: v }), false, `OTEL_SDK_DISABLED=${JSON.stringify(v)}`)
  for (const v of ['false', '', '1', 'yes']) t.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: v }), true, `OTEL_SDK_DISABLED=${JSON.stringify(v)} is not true (spec: only "true")`)
})

t.test('span attributes: path ids only, and how a wait ended', async t => {
  t.same(idAttributes({ taskId: 'a' }), { 'result_gateway.task_id': 'a' })
  t.same(idAttributes({ groupId: 'g' }), { 'result_gateway.group_id': 'g' })
  t.same(idAttributes(undefined), {})
  t.same(idAttributes({ taskId: 1, other: 'x' }), {}, 'nothing but string ids')
  t.same(waitAttributes('ready', 0.002), { 'result_gateway.wait.outcome': 'woken', 'result_gateway.wait.wake_latency_seconds': 0.002 })
  t.same(waitAttributes('ready', null), { 'result_gateway.wait.outcome': 'ready' })
  t.same(waitAttributes('timeout', null), { 'result_gateway.wait.outcome': 'timed_out' })
  t.same(waitAttributes('interrupted', null), { 'result_gateway.wait.outcome': 'interrupted' })
  t.same(waitAttributes('cancelled', null), { 'result_gateway.wait.outcome': 'cancelled' })
})

t.test('webhook delivery attributes: the target\'s host and port, never its path or query', async t => {
  const base = { 'result_gateway.webhook.kind': 'task', 'result_gateway.task_id': 't1', 'result_gateway.webhook.attempt': 2, 'result_gateway.webhook.id': 'msg_x' }
  t.same(deliveryAttributes('task', 't1', 2, 'msg_x', 'https://hooks.example.com/p/s3cret?token=abc'), { ...base, 'server.address': 'hooks.example.com', 'server.port': 443 })
  t.same(deliveryAttributes('task', 't1', 2, 'msg_x', 'http://[::1]:8080/x'), { ...base, 'server.address': '::1', 'server.port': 8080 })
  t.same(deliveryAttributes('task', 't1', 2, 'msg_x', 'not a url'), base, 'an unparsable URL: no target')
  t.equal(outgoingUrlFull({ protocol: 'https:', host: 'hooks.example.com', port: 443, path: '/p?token=abc' }), 'https://hooks.example.com/p')
  t.equal(outgoingUrlFull({ protocol: 'http:', host: '127.0.0.1', port: 8080, path: '/hook?a=1&b=2' }), 'http://127.0.0.1:8080/hook')
  t.equal(outgoingUrlFull({ protocol: 'http:', hostname: '::1', port: '80', path: '/' }), 'http://[::1]/')
  t.equal(outgoingUrlFull({}), 'http://localhost/')
  t.equal(failureReason({ kind: 'response', status: 204 }), null)
  t.equal(failureReason({ kind: 'response', status: 302 }), '302', 'a redirect is not followed: failed')
  t.equal(failureReason({ kind: 'response', status: 410 }), '410')
  t.equal(failureReason({ kind: 'timeout' }), 'timeout')
  t.equal(failureReason({ kind: 'error', code: 'ECONNRESET' }), 'ECONNRESET')
})
