/**
 * Every documented status of every operation, provoked on live gateways (listening on loopback, real
 * redis-servers) and checked against openapi.yaml: the status must be declared for the operation, and the
 * content type and body must match what the document says. A declared status nothing here can provoke must be
 * listed in UNPROVOKABLE with its reason, so the spec cannot grow statuses the gateway never sends.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp } from '../helpers/app.js'
import { newSecret, startReceiver } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { Spec, type Answer } from '../helpers/spec.js'

const TOKENS = { read: 'reader-token-0123456789', write: 'writer-token-0123456789', admin: 'admin-token-0123456789' }
const AUTH = {
  RG_AUTH_DISABLED: 'false',
  RG_AUTH_TOKENS: JSON.stringify([
    { name: 'reader', token: TOKENS.read, scopes: ['read'] },
    { name: 'writer', token: TOKENS.write, scopes: ['write'] },
    { name: 'admin', token: TOKENS.admin, scopes: ['admin'] }
  ])
}
/** Declared, but no request here can make the gateway send it: each with the reason. */
const UNPROVOKABLE: Record<string, string> = {
  'batchGetResults 422': 'an unreadable value is a per-item error; 422 is declared on every read route by rule (#16)',
  'runDoctor 500': 'the doctor reports a denied or failing Redis as failed checks in a 200; only a bug answers 500',
  'createTicket 500': 'minting sends no Redis command (an HMAC in the process), so an ACL cannot deny it; only a bug answers 500'
}

type Scope = 'read' | 'write' | 'admin' | 'none'
interface Req { method: string, path: string, body?: string, type?: string, scope: Scope, headers?: Record<string, string> }
const json = (method: string, path: string, body: unknown, scope: Scope): Req => ({ method, path, body: JSON.stringify(body), type: 'application/json', scope })
const get = (path: string, scope: Scope): Req => ({ method: 'GET', path, scope })

/** The request that succeeds, per operation; the generic statuses (401, 403, 429, 500, 503) reuse it. */
const BASE: Record<string, Req> = {
  getResult: get('/v1/results/k-ok', 'read'),
  getRawResult: get('/v1/results/k-ok/raw', 'read'),
  waitForResult: get('/v1/results/k-ok/wait?timeoutSeconds=1', 'read'),
  streamResultEvents: get('/v1/results/k-ok/events?timeoutSeconds=1', 'read'),
  storeResult: json('PUT', '/v1/results/k-store', { state: 'STARTED', result: { step: 1 } }, 'write'),
  setResultTtl: json('PUT', '/v1/results/k-ok/ttl', { ttlSeconds: 600 }, 'write'),
  forgetResult: { method: 'DELETE', path: '/v1/results/k-gone', scope: 'write' },
  batchGetResults: json('POST', '/v1/results:batchGet', { taskIds: ['k-ok', 'k-none'] }, 'read'),
  batchWaitResults: json('POST', '/v1/results:batchWait', { taskIds: ['k-ok'], timeoutSeconds: 1 }, 'read'),
  getGroup: get('/v1/groups/g-ok', 'read'),
  waitForGroup: get('/v1/groups/g-ok/wait?timeoutSeconds=1', 'read'),
  getResultStats: get('/v1/admin/stats', 'admin'),
  sweepOrphans: json('POST', '/v1/admin/orphans:sweep', {}, 'admin'),
  runDoctor: get('/v1/admin/doctor', 'admin'),
  createTicket: json('POST', '/v1/tickets', { taskIds: ['k-ok'], groupIds: ['g-ok'] }, 'read'),
  getLiveness: get('/healthz', 'none'),
  getReadiness: get('/readyz', 'none'),
  // Webhooks: HOOK is the allow-listed loopback receiver's URL, filled in once it listens.
  putResultWebhook: json('PUT', '/v1/results/k-ok/webhook', { url: 'HOOK' }, 'write'),
  getResultWebhook: get('/v1/results/k-hook/webhook', 'write'),
  deleteResultWebhook: { method: 'DELETE', path: '/v1/results/k-gone/webhook', scope: 'write' },
  listStandingWebhooks: get('/v1/admin/webhooks', 'admin'),
  putStandingWebhook: json('PUT', '/v1/admin/webhooks/s-new', { url: 'HOOK' }, 'admin'),
  getStandingWebhook: get('/v1/admin/webhooks/s-ok', 'admin'),
  deleteStandingWebhook: { method: 'DELETE', path: '/v1/admin/webhooks/s-gone', scope: 'admin' }
}
const BODY_OPS = ['storeResult', 'setResultTtl', 'batchGetResults', 'batchWaitResults', 'sweepOrphans', 'createTicket', 'putResultWebhook', 'putStandingWebhook']
const WEBHOOK_OPS = ['putResultWebhook', 'getResultWebhook', 'deleteResultWebhook', 'listStandingWebhooks', 'putStandingWebhook', 'getStandingWebhook', 'deleteStandingWebhook']

/** The webhook routes' own statuses (400 on a bad name or body, 404, 422 refused URL). */
function webhookSpecific (id: string, base: Req): Array<[number, Req]> {
  const out: Array<[number, Req]> = []
  if (id === 'getResultWebhook') out.push([400, get('/v1/results/a..b/webhook', 'write')], [404, get('/v1/results/k-none/webhook', 'write')])
  if (id === 'getStandingWebhook') out.push([400, get('/v1/admin/webhooks/a%20b', 'admin')], [404, get('/v1/admin/webhooks/s-none', 'admin')])
  if (id === 'deleteStandingWebhook') out.push([400, { ...base, path: '/v1/admin/webhooks/a%20b' }])
  if (id === 'putStandingWebhook') out.push([400, { ...base, path: '/v1/admin/webhooks/a%20b' }])
  if (id === 'putResultWebhook' || id === 'putStandingWebhook') out.push([422, { ...base, body: JSON.stringify({ url: 'https://localhost/' }) }])
  return out
}

/** Statuses provoked on the main gateway with a request of their own. */
function specific (id: string, base: Req): Array<[number, Req]> {
  const swap = (from: string, to: string): Req => ({ ...base, path: base.path.replace(from, to) })
  const out: Array<[number, Req]> = []
  if (id === 'getResult' || id === 'getRawResult') out.push([304, { ...base, headers: { 'if-none-match': '*' } }], [404, swap('k-ok', 'k-none')])
  if (base.path.includes('k-ok') || base.path.includes('k-gone')) out.push([400, swap(/k-(ok|gone)/.exec(base.path)?.[0] ?? '', 'a..b')])
  if (base.path.includes('g-ok')) out.push([400, swap('g-ok', 'a..b')], [404, swap('g-ok', 'g-none')], [422, swap('g-ok', 'g-pickle')])
  if (['getResult', 'getRawResult', 'waitForResult', 'streamResultEvents'].includes(id)) out.push([422, swap('k-ok', 'k-pickle')])
  if (id === 'setResultTtl') out.push([404, swap('k-ok', 'k-none')])
  if (id === 'storeResult') out.push([409, json('PUT', '/v1/results/k-ok', { state: 'FAILURE', error: { type: 'E', message: 'm' } }, 'write')])
  if (id === 'storeResult' || id === 'sweepOrphans' || id === 'createTicket' || id.startsWith('batch')) out.push([400, { ...base, body: '{"taskIds": 1, "state": 1, "cursor": 1}' }])
  if (id === 'batchWaitResults') out.push([422, json('POST', base.path, { taskIds: ['k-pickle'], timeoutSeconds: 1 }, 'read')])
  if (WEBHOOK_OPS.includes(id)) out.push(...webhookSpecific(id, base))
  if (BODY_OPS.includes(id)) {
    out.push([413, { ...base, body: JSON.stringify({ pad: 'x'.repeat(5000) }) }], [415, { ...base, type: 'text/plain' }])
  }
  return out
}

async function call (base: string, r: Req, token?: string): Promise<Answer> {
  const headers: Record<string, string> = { ...r.headers }
  if (r.type !== undefined) headers['content-type'] = r.type
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${base}${r.path}`, { method: r.method, headers, ...(r.body === undefined ? {} : { body: r.body }) })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() }
}

const listen = async (app: App): Promise<string> => await app.listen({ host: '127.0.0.1', port: 0 })

t.test('every documented status of every operation, provoked and checked against openapi.yaml', async t => {
  const spec = new Spec()
  const server = await startRedis(t)
  const receiver = await startReceiver(t)
  const hooks = { RG_WEBHOOK_SECRET: newSecret(), RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort }
  for (const r of Object.values(BASE)) if (r.body !== undefined) r.body = r.body.replace('HOOK', `${receiver.base}/contract`)
  const main = await buildTestApp(t, server.url, { ...AUTH, ...hooks, RG_HTTP_BODY_LIMIT_BYTES: '4096' })
  const prefix = main.settings.redis.keyPrefix
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const doc = (id: string, status = 'SUCCESS') => JSON.stringify({ status, result: 1, traceback: null, children: [], date_done: '2026-01-01T00:00:00', task_id: id })
  await redis.set(`${prefix}celery-task-meta-k-ok`, doc('k-ok'), 'EX', 3600)
  await redis.set(`${prefix}celery-task-meta-k-pickle`, Buffer.from([0x80, 0x04, 0x95, 0x00]))
  await redis.set(`${prefix}celery-taskset-meta-g-ok`, JSON.stringify({ result: [['g-ok', null], [[['k-ok', null], null]]] }))
  await redis.set(`${prefix}celery-taskset-meta-g-pickle`, Buffer.from([0x80, 0x04, 0x95, 0x00]))

  // 429: one request per minute, already spent. 503: a heap limit of 1 byte sheds every request.
  // 500: a Redis reply without a row in the reply table (src/redis/replies.ts): the commands the routes send,
  // renamed away, answer "ERR unknown command". (NOPERM is a documented 503 since #24.)
  const limited = await buildTestApp(t, server.url, { RG_RATE_LIMIT_PER_MINUTE: '1' })
  const shed = await buildTestApp(t, server.url, { RG_LOAD_MAX_HEAP_USED_BYTES: '1', RG_LOAD_SAMPLE_INTERVAL_MS: '5' })
  const renamed = ['GET', 'MGET', 'DEL', 'EVALSHA', 'EVAL', 'SCAN', 'MULTI', 'SUBSCRIBE', 'HGET', 'HGETALL', 'HSET', 'HMGET', 'HDEL'].flatMap(c => ['--rename-command', c, ''])
  const broken = await startRedis(t, renamed)
  const denied = await buildTestApp(t, broken.url, hooks)
  // 501: a gateway without RG_WEBHOOK_SECRET.
  const disabled = await buildTestApp(t, server.url, AUTH)
  const urls = { main: await listen(main), limited: await listen(limited), shed: await listen(shed), denied: await listen(denied), disabled: await listen(disabled) }
  const as = (scope: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[scope]}` })
  await main.inject({ method: 'PUT', url: '/v1/results/k-hook/webhook', headers: as('write'), payload: { url: `${receiver.base}/contract` } })
  await main.inject({ method: 'PUT', url: '/v1/admin/webhooks/s-ok', headers: as('admin'), payload: { url: `${receiver.base}/contract` } })
  await call(urls.limited, get('/v1/results/warm-up', 'read'))
  await new Promise(resolve => setTimeout(resolve, 50)) // the heap sample that turns shedding on

  const seen = new Set<string>()
  const check = (id: string, want: number, a: Answer, how: string): void => {
    t.equal(a.status, want, `${id} ${want} (${how}): ${a.body.slice(0, 160)}`)
    t.same(spec.check(id, a), [], `${id} ${a.status} matches openapi.yaml`)
    seen.add(`${id} ${a.status}`)
  }
  for (const op of spec.operations()) {
    const base = BASE[op.id]
    if (base === undefined) { t.fail(`no request for ${op.id}: add one to BASE`); continue }
    const token = base.scope === 'none' ? undefined : TOKENS[base.scope]
    check(op.id, op.statuses.includes(204) ? 204 : 200, await call(urls.main, base, token), 'success')
    for (const [status, req] of specific(op.id, base)) check(op.id, status, await call(urls.main, req, token), 'main')
    if (base.scope !== 'none') {
      check(op.id, 401, await call(urls.main, base), 'no token')
      check(op.id, 403, await call(urls.main, base, base.scope === 'read' ? TOKENS.write : TOKENS.read), 'wrong scope')
      check(op.id, 429, await call(urls.limited, base), 'rate limited')
      check(op.id, 503, await call(urls.shed, base), 'load shed')
      if (!UNPROVOKABLE[`${op.id} 500`]) check(op.id, 500, await call(urls.denied, base), 'a reply without a row')
    }
    if (WEBHOOK_OPS.includes(op.id)) check(op.id, 501, await call(urls.disabled, base, token), 'webhooks off')
  }
  main.lifecycle.draining = true
  check('getReadiness', 503, await call(urls.main, BASE.getReadiness as Req), 'draining')
  main.lifecycle.draining = false

  const declared = spec.operations().flatMap(op => op.statuses.map(s => `${op.id} ${s}`))
  const missing = declared.filter(k => !seen.has(k) && UNPROVOKABLE[k] === undefined)
  t.same(missing, [], 'every declared status was provoked (or is listed as unprovokable, with a reason)')
  t.comment(`(operation, status) pairs checked: ${seen.size} of ${declared.length} declared; ${Object.keys(UNPROVOKABLE).length} declared but unprovokable`)
})
