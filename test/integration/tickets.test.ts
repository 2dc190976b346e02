import t from 'tap'
import { Redis } from 'ioredis'
import { buildLoggedApp, buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { mintTicket, ticketKey } from '../../src/auth/ticket.js'
import type { App } from '../../src/app.js'

const READER = 'r'.repeat(24)
const WRITER = 'w'.repeat(24)
const ADMIN = 'a'.repeat(24)
const APP2 = 'x'.repeat(24)
const TOKENS = [
  { name: 'reader', token: READER, scopes: ['read'] },
  { name: 'writer', token: WRITER, scopes: ['read', 'write'] },
  { name: 'ops', token: ADMIN, scopes: ['admin'] },
  { name: 'app2-svc', token: APP2, scopes: ['read'], keyPrefix: 'app2' }
]
const ENV = { RG_AUTH_DISABLED: 'false', RG_REDIS_KEY_PREFIX: 'app1', RG_AUTH_TOKENS: JSON.stringify(TOKENS), RG_BATCH_MAX_IDS: '4' }
const doc = (id: string, status = 'SUCCESS', result: unknown = 42) =>
  JSON.stringify({ status, result, traceback: null, children: [], date_done: status === 'SUCCESS' ? '2026-11-24T22:35:40.781582' : null, task_id: id })

async function mint (app: App, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/tickets', headers: { authorization: `Bearer ${token}` }, payload: body })
  if (res.statusCode !== 200) throw new Error(`mint: ${res.statusCode} ${res.body}`)
  return (res.json() as { ticket: string }).ticket
}

t.test('tickets: read routes of exactly the listed ids, nothing else', async t => {
  const server = await startRedis(t)
  const { app, logs } = await buildLoggedApp(t, server.url, ENV)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  await redis.set('app1_celery-task-meta-t1', doc('t1'))
  await redis.set('app1_celery-task-meta-t2', doc('t2'))
  await redis.set('app1_celery-taskset-meta-g1', JSON.stringify({ result: [['g1', null], [[['t1', null], null]]] }))
  await redis.set('app2_celery-task-meta-t1', doc('t1', 'SUCCESS', 'app2 says hi'))

  const minted = await app.inject({ method: 'POST', url: '/v1/tickets', headers: { authorization: `Bearer ${READER}` }, payload: { taskIds: ['t1'], groupIds: ['g1'], ttlSeconds: 120 } })
  t.equal(minted.statusCode, 200)
  const { ticket, expiresAt } = minted.json() as { ticket: string, expiresAt: string }
  t.match(ticket, /^[A-Za-z0-9_-]+$/, 'URL-safe')
  t.match(expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'RFC 3339')
  const ahead = (Date.parse(expiresAt) - Date.now()) / 1000
  t.ok(ahead > 60 && ahead <= 120, `expires in ttlSeconds (${ahead} s)`)

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ url, headers })
  const q = `ticket=${ticket}`

  t.test('accepted on fetch, raw, wait, events, group fetch and group wait of its ids', async t => {
    for (const url of ['/v1/results/t1', '/v1/results/t1/raw', '/v1/results/t1/wait?timeoutSeconds=0', '/v1/results/t1/events?timeoutSeconds=0', '/v1/groups/g1', '/v1/groups/g1/wait?timeoutSeconds=0']) {
      const res = await get(`${url}${url.includes('?') ? '&' : '?'}${q}`)
      t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 120)}`)
    }
    const etag = (await get(`/v1/results/t1?${q}`)).headers.etag
    t.equal((await get(`/v1/results/t1?${q}`, { 'if-none-match': String(etag) })).statusCode, 304, 'conditional reads work with a ticket')
    t.match((await get(`/v1/results/t1?${q}`)).json(), { result: 42 })
  })

  t.test('refusals: another id, a write, admin, minting, batch → 403; no ticket → 401; both credentials → 400', async t => {
    const refused = async (what: string, res: Awaited<ReturnType<typeof get>>, status: number, code: string) => {
      t.equal(res.statusCode, status, `${what}: ${status}`)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.match(res.json(), { code, detail: String })
      t.notMatch(res.body, ticket, `${what}: the ticket is not echoed`)
    }
    await refused('other id', await get(`/v1/results/t2?${q}`), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('other group', await get(`/v1/groups/g2?${q}`), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('group id as a task id', await get(`/v1/results/g1?${q}`), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('write', await app.inject({ method: 'PUT', url: `/v1/results/t1?${q}`, headers: { 'content-type': 'application/json' }, payload: '{"state":"SUCCESS","result":1}' }), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('forget', await app.inject({ method: 'DELETE', url: `/v1/results/t1?${q}` }), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('ttl', await app.inject({ method: 'PUT', url: `/v1/results/t1/ttl?${q}`, headers: { 'content-type': 'application/json' }, payload: '{"ttlSeconds":5}' }), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('admin', await get(`/v1/admin/stats?${q}`), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('mint with a ticket', await app.inject({ method: 'POST', url: `/v1/tickets?${q}`, payload: { taskIds: ['t2'] } }), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('batch read', await app.inject({ method: 'POST', url: `/v1/results:batchGet?${q}`, payload: { taskIds: ['t1'] } }), 403, 'RG_TICKET_NOT_ALLOWED')
    await refused('no ticket, no token', await get('/v1/results/t1'), 401, 'RG_UNAUTHENTICATED')
    await refused('ticket and token', await get(`/v1/results/t1?${q}`, { authorization: `Bearer ${READER}` }), 400, 'RG_INVALID_REQUEST')
    t.equal(await redis.get('app1_celery-task-meta-t1'), doc('t1'), 'nothing was written')
  })

  t.test('expired, tampered, forged, truncated, repeated → 401 invalid-ticket', async t => {
    const expired = app.tickets.issue({ name: 'reader', keyPrefix: 'app1_' }, ['t1'], [], 60, Date.now() - 61_000).ticket
    const bytes = Buffer.from(ticket, 'base64url')
    const flip = (at: number) => { const b = Buffer.from(bytes); b[at] = (b[at] ?? 0) ^ 1; return b.toString('base64url') }
    const forged = mintTicket(ticketKey('not the gateway key, but 32+ chars long', []), { tokenName: 'reader', keyPrefix: 'app1_', taskIds: ['t1'], groupIds: [], expiresAt: Math.floor(Date.now() / 1000) + 60 })
    const asOps = mintTicket(ticketKey(null, [{ name: 'nobody', token: 'n'.repeat(24) }]), { tokenName: 'ops', keyPrefix: 'app1_', taskIds: ['t1'], groupIds: [], expiresAt: Math.floor(Date.now() / 1000) + 60 })
    const cases: Array<[string, string, RegExp]> = [
      ['expired', `ticket=${expired}`, /expired at/],
      ['expiry pushed later', `ticket=${flip(3)}`, /signature/],
      ['token name changed', `ticket=${flip(7)}`, /signature/],
      ['an id digest changed', `ticket=${flip(bytes.length - 40)}`, /signature/],
      ['tag changed', `ticket=${flip(bytes.length - 1)}`, /signature/],
      ['forged with another key', `ticket=${forged}`, /signature/],
      ['signed for another token set', `ticket=${asOps}`, /signature/],
      ['truncated', `ticket=${ticket.slice(0, 20)}`, /malformed/],
      ['not base64url', 'ticket=abc$def', /malformed/],
      ['repeated', `ticket=${ticket}&ticket=${ticket}`, /malformed/],
      ['empty', 'ticket=', /malformed/]
    ]
    for (const [what, query, detail] of cases) {
      const res = await get(`/v1/results/t1?${query}`)
      t.equal(res.statusCode, 401, `${what}: 401`)
      t.match(res.json(), { code: 'RG_INVALID_TICKET', type: '/problems/invalid-ticket', detail }, what)
      t.match(res.headers['www-authenticate'], /^Bearer /)
    }
  })

  t.test('the ticket carries its token\'s keyPrefix confinement', async t => {
    const app2Ticket = await mint(app, APP2, { taskIds: ['t1'] })
    t.match((await get(`/v1/results/t1?ticket=${app2Ticket}`)).json(), { result: 'app2 says hi' }, 'reads app2_ keys')
    t.match((await get(`/v1/results/t1?${q}`)).json(), { result: 42 }, 'the reader\'s reads app1_ keys')
  })

  t.test('minting: bounds, scopes', async t => {
    const post = (body: unknown, token = READER) => app.inject({ method: 'POST', url: '/v1/tickets', headers: { authorization: `Bearer ${token}` }, payload: body as Record<string, unknown> })
    t.equal((await post({ taskIds: ['a'], ttlSeconds: 301 })).statusCode, 400, 'ttl over 300')
    t.equal((await post({ taskIds: ['a'], ttlSeconds: 0 })).statusCode, 400, 'ttl 0')
    t.equal((await post({})).statusCode, 400, 'no ids')
    t.match((await post({ taskIds: ['a', 'b', 'c'], groupIds: ['d', 'e'] })).json(), { code: 'RG_INVALID_REQUEST', detail: /at most 4 ids/ }, 'over RG_BATCH_MAX_IDS in total')
    t.equal((await post({ taskIds: ['a', 'b'], groupIds: ['c', 'd'] })).statusCode, 200, 'exactly RG_BATCH_MAX_IDS')
    t.equal((await post({ taskIds: ['bad..id'] })).statusCode, 400, 'ids validated')
    t.equal((await app.inject({ method: 'POST', url: '/v1/tickets', payload: { taskIds: ['a'] } })).statusCode, 401, 'minting needs a token')
    const def = (await post({ taskIds: ['a'] })).json() as { expiresAt: string }
    const life = (Date.parse(def.expiresAt) - Date.now()) / 1000
    t.ok(life > 0 && life <= 60, `default life 60 s (${life})`)
  })

  t.test('the ticket never reaches a log line or a metric', async t => {
    const all = logs.join('\n')
    t.ok(logs.some(l => /"url":"\/v1\/results\/t1\?ticket=\[redacted\]"/.test(l)), 'request lines show the URL with the ticket censored')
    t.notOk(all.includes(ticket), 'the ticket is in no log line')
    t.notOk(all.includes(ticket.slice(10, 40)), 'nor any part of it')
    const metrics = await app.inject('/metrics')
    t.equal(metrics.statusCode, 200)
    t.notOk(metrics.body.includes(ticket.slice(10, 40)), 'nor in /metrics')
  })
})

t.test('stateless: another replica with the same secret (or the same tokens) accepts it; other tokens do not', async t => {
  const server = await startRedis(t)
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  await redis.set('app1_celery-task-meta-t1', doc('t1'))
  const secret = { RG_TICKET_SECRET: 's'.repeat(40) }
  const [a, b, c] = await Promise.all([buildTestApp(t, server.url, { ...ENV, ...secret }), buildTestApp(t, server.url, { ...ENV, ...secret }), buildTestApp(t, server.url, ENV)])
  const fromSecret = await mint(a, READER, { taskIds: ['t1'] })
  t.equal((await b.inject(`/v1/results/t1?ticket=${fromSecret}`)).statusCode, 200, 'same RG_TICKET_SECRET')
  t.equal((await c.inject(`/v1/results/t1?ticket=${fromSecret}`)).statusCode, 401, 'a replica without the secret refuses it')
  const [d] = await Promise.all([buildTestApp(t, server.url, ENV)])
  const fromTokens = await mint(c, READER, { taskIds: ['t1'] })
  t.equal((await d.inject(`/v1/results/t1?ticket=${fromTokens}`)).statusCode, 200, 'same RG_AUTH_TOKENS, key derived from them')
  const rotated = await buildTestApp(t, server.url, { ...ENV, RG_AUTH_TOKENS: JSON.stringify(TOKENS.map(x => x.name === 'ops' ? { ...x, token: 'o'.repeat(24) } : x)) })
  t.equal((await rotated.inject(`/v1/results/t1?ticket=${fromTokens}`)).statusCode, 401, 'changing any token invalidates derived-key tickets')
  const removed = await buildTestApp(t, server.url, { ...ENV, ...secret, RG_AUTH_TOKENS: JSON.stringify(TOKENS.filter(x => x.name !== 'reader')) })
  t.equal((await removed.inject(`/v1/results/t1?ticket=${fromSecret}`)).statusCode, 401, 'a ticket dies with its token')
})

t.test('with auth off a ticket is not needed, and minting still answers', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url)
  const res = await app.inject({ method: 'POST', url: '/v1/tickets', payload: { taskIds: ['t1'] } })
  t.equal(res.statusCode, 200)
  t.equal((await app.inject(`/v1/results/t1?ticket=${(res.json() as { ticket: string }).ticket}`)).statusCode, 404, 'passes to the route (nothing stored)')
})
