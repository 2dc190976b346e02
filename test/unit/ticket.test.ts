import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { mintTicket, ticketKey, TicketError, verifyTicket } from '../../src/auth/ticket.js'
import { redactTicket } from '../../src/auth/ticket-grant.js'
import { loadConfig } from '../../src/config.js'

const key = ticketKey('k'.repeat(40), [])
const now = 1_800_000_000
const grant = { tokenName: 'reader', keyPrefix: 'app1_', taskIds: ['t1', 't2'], groupIds: ['g1'], expiresAt: now + 60 }
const prefixes = (name: string) => name === 'reader' ? 'app1_' : undefined

t.test('a ticket lists exactly its ids, by kind', async t => {
  const v = verifyTicket(key, mintTicket(key, grant), prefixes, now)
  t.equal(v.tokenName, 'reader')
  t.equal(v.expiresAt, now + 60)
  t.ok(v.allows('task', 't1') && v.allows('task', 't2') && v.allows('group', 'g1'))
  t.notOk(v.allows('task', 'g1'), 'a group id is not a task id')
  t.notOk(v.allows('group', 't1'))
  t.notOk(v.allows('task', 't3'))
})

t.test('refused: expired, other prefix, other key, unknown issuer', async t => {
  const ticket = mintTicket(key, grant)
  t.throws(() => verifyTicket(key, ticket, prefixes, now + 60), /expired at/, 'expiry is exclusive')
  t.ok((() => { try { verifyTicket(key, 'AAAA', prefixes, now) } catch (e) { return e instanceof TicketError } return false })(), 'a TicketError')
  t.throws(() => verifyTicket(key, ticket, () => 'app2_', now), /signature/)
  t.throws(() => verifyTicket(ticketKey('o'.repeat(40), []), ticket, prefixes, now), /signature/)
  t.throws(() => verifyTicket(key, ticket, () => undefined, now), /signature/)
})

t.test('the key: from the secret, else from the token set (order-free), else random', async t => {
  const a = ticketKey(null, [{ name: 'a', token: 'x'.repeat(16) }, { name: 'b', token: 'y'.repeat(16) }])
  const b = ticketKey(null, [{ name: 'b', token: 'y'.repeat(16) }, { name: 'a', token: 'x'.repeat(16) }])
  t.same(a, b)
  t.notSame(a, ticketKey(null, [{ name: 'a', token: 'x'.repeat(16) }, { name: 'b', token: 'z'.repeat(16) }]))
  t.notSame(ticketKey(null, []), ticketKey(null, []), 'no tokens: a random per-process key')
  t.notSame(ticketKey('s'.repeat(40), []), ticketKey(null, [{ name: 's', token: 's'.repeat(40) }]))
})

t.test('1,000 ids fit Node\'s 16 KB request head', async t => {
  const ids = Array.from({ length: 1000 }, (_, i) => `d06bfa71-85ad-4e6b-beba-${String(i).padStart(12, '0')}`)
  const ticket = mintTicket(key, { ...grant, taskIds: ids, groupIds: [] })
  t.ok(ticket.length < 11_000, `${ticket.length} characters`)
  t.ok(verifyTicket(key, ticket, prefixes, now).allows('task', ids[999] ?? ''))
})

t.test('redactTicket censors every ticket parameter, however its name is spelled', async t => {
  t.equal(redactTicket('/v1/results/a/events?ticket=abc&timeoutSeconds=5'), '/v1/results/a/events?ticket=[redacted]&timeoutSeconds=5')
  t.equal(redactTicket('/v1/results/a?x=1&%74icket=abc'), '/v1/results/a?x=1&%74icket=[redacted]')
  t.equal(redactTicket('/v1/results/a?ticket=a&ticket=b'), '/v1/results/a?ticket=[redacted]&ticket=[redacted]')
  t.equal(redactTicket('/v1/results/ticket=x'), '/v1/results/ticket=x', 'the path is not a query')
  t.equal(redactTicket('/v1/results/a?tickets=1'), '/v1/results/a?tickets=1')
})

t.test('RG_TICKET_SECRET: from a file, at least 32 characters, never echoed', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-ticket-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'secret'), `${'q'.repeat(40)}\n`)
  const base = { RG_REDIS_URL: 'redis://127.0.0.1:1/0', RG_AUTH_DISABLED: 'true' }
  t.equal(loadConfig({ ...base, RG_TICKET_SECRET_FILE: join(dir, 'secret') }).auth.ticketSecret, 'q'.repeat(40))
  t.equal(loadConfig(base).auth.ticketSecret, null)
  let message = ''
  try { loadConfig({ ...base, RG_TICKET_SECRET: 'short-secret-value' }) } catch (err) { message = (err as Error).message }
  t.match(message, /RG_TICKET_SECRET/, 'a short secret is refused')
  t.notMatch(message, /short-secret-value/, 'without echoing it')
})
