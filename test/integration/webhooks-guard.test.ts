/**
 * What webhooks refuse, against a real gateway and Redis: every SSRF refusal with loopback addresses and names that
 * are not allow-listed (only 127.0.0.1:<receiver port> is), URLs with credentials or plain http, the same for standing
 * webhooks; the connection going to the checked address whatever the name (no DNS lookup at connect); webhooks off
 * without a secret; and the secret never in a log line.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildLoggedApp, buildTestApp } from '../helpers/app.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'
import { attempt } from '../../src/webhooks/deliver.js'

t.test('SSRF refusals', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, redis.url, { RG_WEBHOOK_SECRET: newSecret(), RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort })
  const p = receiver.port
  const refused: Array<[string, RegExp]> = [
    [`https://127.0.0.2:${p}/`, /127\.0\.0\.2, a loopback address/],
    [`https://localhost:${p}/`, /localhost resolves to .*a loopback address/],
    [`https://[::1]:${p}/`, /::1, a loopback address/],
    [`https://[::ffff:127.0.0.1]:${p}/`, /loopback \(IPv4 inside IPv6\)/],
    [`https://127.0.0.1:${p + 1 === 65536 ? p - 1 : p + 1}/`, /loopback/],
    [`http://127.0.0.2:${p}/`, /must be https/],
    [`http://localhost:${p}/`, /must be https/],
    [`http://user:pw@${receiver.hostPort}/`, /credentials/],
    [`http://${receiver.hostPort}/#frag`, /fragment/],
    ['https://does-not-exist.invalid/', /does not resolve/]
  ]
  for (const [url, why] of refused) {
    const res = await app.inject({ method: 'PUT', url: `/v1/results/${randomUUID()}/webhook`, payload: { url } })
    t.equal(res.statusCode, 422, url)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { code: 'RG_WEBHOOK_URL_REFUSED', type: '/problems/webhook-url-refused', detail: why }, url)
    t.notMatch(res.body, /pw@/, 'credentials are not echoed')
  }
  const standing = await app.inject({ method: 'PUT', url: '/v1/admin/webhooks/all', payload: { url: `https://localhost:${p}/` } })
  t.match(standing.json(), { status: 422, code: 'RG_WEBHOOK_URL_REFUSED' }, 'standing webhooks pass the same guard')
  const allowed = await app.inject({ method: 'PUT', url: `/v1/results/${randomUUID()}/webhook`, payload: { url: `${receiver.base}/ok` } })
  t.equal(allowed.statusCode, 200, 'the allow-listed host:port over http')
  const notUri = await app.inject({ method: 'PUT', url: `/v1/results/${randomUUID()}/webhook`, payload: { url: 'nope' } })
  t.equal(notUri.statusCode, 400)
  t.equal(receiver.received.length, 0, 'no refused URL was ever called')
})

t.test('the connection goes to the checked address, with the URL\'s name as Host (no lookup at connect)', async t => {
  const receiver = await startReceiver(t)
  const url = new URL(`http://rebinding.invalid:${receiver.port}/pinned`)
  const r = await attempt({ url, target: `rebinding.invalid:${receiver.port}`, addresses: [{ address: '127.0.0.1', family: 4 }] }, { 'webhook-id': 'msg_x' }, '{}', 5000)
  t.same(r, { kind: 'response', status: 204 })
  t.equal(receiver.received[0]?.headers.host, `rebinding.invalid:${receiver.port}`, '.invalid never resolves: the pinned address was used')
})

t.test('without RG_WEBHOOK_SECRET every webhook route answers 501 webhooks-disabled, logged at info (an answer, not a fault)', async t => {
  const redis = await startRedis(t)
  const { app, logs } = await buildLoggedApp(t, redis.url)
  const calls = [
    { method: 'PUT' as const, url: '/v1/results/a/webhook', payload: { url: 'https://example.com/' } },
    { method: 'GET' as const, url: '/v1/results/a/webhook' },
    { method: 'DELETE' as const, url: '/v1/results/a/webhook' },
    { method: 'GET' as const, url: '/v1/admin/webhooks' },
    { method: 'PUT' as const, url: '/v1/admin/webhooks/x', payload: { url: 'https://example.com/' } },
    { method: 'GET' as const, url: '/v1/admin/webhooks/x' },
    { method: 'DELETE' as const, url: '/v1/admin/webhooks/x' }
  ]
  for (const c of calls) {
    const res = await app.inject(c)
    t.equal(res.statusCode, 501, `${c.method} ${c.url}`)
    t.match(res.json(), { code: 'RG_WEBHOOKS_DISABLED', detail: /RG_WEBHOOK_SECRET/ })
  }
  const lines = logs.map(l => JSON.parse(l) as { level: number, msg?: string, code?: string })
  t.same(lines.filter(l => l.level >= 50), [], 'nothing at error level: the operator chose to leave webhooks off')
  const answered = lines.filter(l => l.code === 'RG_WEBHOOKS_DISABLED')
  t.equal(answered.length, calls.length, 'one line per 501, naming the code')
  t.ok(answered.every(l => l.level === 30), 'each at info')
})

t.test('the webhook secret never reaches a log line', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  receiver.respond((_r, n, res) => { res.statusCode = n === 1 ? 500 : 200; res.end() })
  const secret = newSecret()
  const { app, logs } = await buildLoggedApp(t, redis.url, { RG_WEBHOOK_SECRET: secret, RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort, RG_WEBHOOK_RETRY_BASE_MS: '20' })
  const id = randomUUID()
  await app.inject({ method: 'PUT', url: `/v1/results/${id}/webhook`, payload: { url: `${receiver.base}/logged?token=abc` } })
  await app.inject({ method: 'PUT', url: `/v1/results/${id}`, payload: { state: 'SUCCESS', result: 1 } })
  await until(() => receiver.received.length === 2, 'a failed attempt and its retry')
  await app.inject({ method: 'PUT', url: '/v1/results/x/webhook', payload: { url: 'https://localhost/' } })
  t.ok(logs.length > 5, `${logs.length} log lines`)
  t.ok(logs.some(l => l.includes('webhook attempt failed')), 'the failed attempt is logged')
  const key = secret.slice('whsec_'.length)
  t.notOk(logs.some(l => l.includes(key)), 'no line holds the secret')
  t.notOk(logs.some(l => l.includes('token=abc')), 'nor the URL\'s query string')
})
