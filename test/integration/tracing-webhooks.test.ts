/**
 * Webhook deliveries traced: a real gateway process (the tracing preload, as npm start runs it) exporting to the
 * OTLP receiver in this test, delivering to a real loopback webhook receiver. Each attempt is a client span with
 * the subscription kind, task id, attempt number, HTTP status or failure reason and webhook-id; the HTTP
 * instrumentation's POST span nests under it and carries its traceparent to the receiver; no span holds the URL's
 * query string, the secret or the body.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { freePort } from '../../src/redis/spawn.js'
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { headers, TOKEN, tracedGateway } from '../helpers/traced-gateway.js'
import { until } from '../helpers/until.js'

const CLIENT_KIND = 3
const STATUS_ERROR = 2
const DELIVER = 'result_gateway.webhook.deliver'

t.test('each delivery attempt is a client span, the outbound POST nested under it', async t => {
  const otlp = await startOtlpReceiver(t)
  let hookCalls = 0
  // The per-task hook fails its first attempt (500) and takes the retry; the standing one takes everything.
  const receiver = await startReceiver(t, (r, _n, res) => {
    res.statusCode = r.path.startsWith('/hook') && hookCalls++ === 0 ? 500 : 204
    res.end()
  })
  const closed = await freePort()
  const secret = newSecret()
  const { srv, base } = await tracedGateway(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'tests', token: TOKEN, scopes: ['read', 'write', 'admin'] }]),
    RG_WEBHOOK_SECRET: secret,
    RG_WEBHOOK_ALLOWED_HOSTS: `${receiver.hostPort},127.0.0.1:${closed}`,
    RG_WEBHOOK_RETRY_BASE_MS: '20',
    RG_WEBHOOK_MAX_ATTEMPTS: '2'
  })
  const query = `q-${randomBytes(8).toString('hex')}`
  const put = async (path: string, body: unknown): Promise<number> =>
    (await fetch(`${base}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) })).status

  t.equal(await put('/v1/admin/webhooks/traced', { url: `${receiver.base}/standing?token=${query}` }), 200)
  const ok = `ok-${randomBytes(4).toString('hex')}`
  const refused = `refused-${randomBytes(4).toString('hex')}`
  t.equal(await put(`/v1/results/${ok}/webhook`, { url: `${receiver.base}/hook?token=${query}` }), 200)
  t.equal(await put(`/v1/results/${refused}/webhook`, { url: `http://127.0.0.1:${closed}/gone?token=${query}` }), 200)
  t.equal(await put(`/v1/results/${ok}`, { state: 'SUCCESS', result: 'body-marker' }), 200)
  t.equal(await put(`/v1/results/${refused}`, { state: 'SUCCESS', result: 'body-marker' }), 200)

  const deliveries = (): ReceivedSpan[] => otlp.spans().filter(s => s.name === DELIVER)
  const of = (kind: string, task: string): ReceivedSpan[] => deliveries()
    .filter(s => s.attributes['result_gateway.webhook.kind'] === kind && s.attributes['result_gateway.task_id'] === task)
    .sort((a, b) => Number(a.attributes['result_gateway.webhook.attempt']) - Number(b.attributes['result_gateway.webhook.attempt']))
  await until(() => of('task', ok).length === 2 && of('task', refused).length === 2 && of('standing', ok).length === 1 && of('standing', refused).length === 1,
    `${DELIVER} spans: two attempts per task webhook, one per standing delivery`)

  for (const span of deliveries()) {
    t.equal(span.kind, CLIENT_KIND, `${String(span.attributes['result_gateway.task_id'])}: a client span`)
    t.equal(span.parentSpanId, '', 'each attempt starts its own trace (the worker runs outside any request)')
    t.match(span.attributes['result_gateway.webhook.id'], /^msg_/, 'the webhook-id')
  }

  // Per task, 500 then 204: the first attempt is failed with the status as its error type, the retry is not.
  const [first, second] = of('task', ok)
  const hooks = receiver.received.filter(r => r.path.startsWith('/hook'))
  t.match(first?.attributes, { 'result_gateway.webhook.attempt': 1, 'http.response.status_code': 500, 'error.type': '500', 'result_gateway.webhook.outcome': 'http_error' })
  t.equal(first?.status, STATUS_ERROR, 'a 500 marks the attempt failed')
  t.match(second?.attributes, { 'result_gateway.webhook.attempt': 2, 'http.response.status_code': 204, 'result_gateway.webhook.outcome': 'success' })
  t.notOk(second?.attributes['error.type'], 'the delivered attempt has no error type')
  t.not(second?.status, STATUS_ERROR)
  t.equal(second?.attributes['result_gateway.webhook.id'], hooks[1]?.headers['webhook-id'], 'the webhook-id the receiver got')
  t.match(second?.attributes, { 'server.address': '127.0.0.1', 'server.port': receiver.port })

  // Nothing listens on `closed`: the reason code, no status.
  for (const [i, span] of of('task', refused).entries()) {
    t.match(span.attributes, { 'result_gateway.webhook.attempt': i + 1, 'error.type': 'ECONNREFUSED', 'result_gateway.webhook.outcome': 'connection_error' })
    t.notOk('http.response.status_code' in span.attributes, 'no status without a response')
    t.equal(span.status, STATUS_ERROR)
  }
  t.match(of('standing', ok)[0]?.attributes, { 'http.response.status_code': 204, 'result_gateway.webhook.attempt': 1 })

  // The HTTP instrumentation's POST span is the delivery span's child, and its context is what the receiver got.
  await until(() => otlp.spans().some(s => s.parentSpanId === second?.spanId), 'the POST span of the delivered attempt')
  const post = otlp.spans().find(s => s.parentSpanId === second?.spanId)
  t.equal(post?.traceId, second?.traceId, 'in the delivery\'s trace')
  t.equal(post?.kind, CLIENT_KIND)
  t.match(post?.attributes, { 'http.request.method': 'POST', 'http.response.status_code': 204 })
  t.equal(post?.attributes['url.full'], `${receiver.base}/hook`, 'url.full without the query string')
  t.equal(hooks[1]?.headers.traceparent, `00-${second?.traceId ?? ''}-${post?.spanId ?? ''}-01`, 'traceparent sent to the receiver')

  for (const span of otlp.spans()) {
    const attrs = JSON.stringify(span.attributes)
    t.notMatch(attrs, query, `${span.name}: no query string of a webhook URL`)
    t.notMatch(attrs, secret.slice('whsec_'.length), `${span.name}: no webhook secret`)
    t.notMatch(attrs, 'body-marker', `${span.name}: no body`)
  }
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
})
