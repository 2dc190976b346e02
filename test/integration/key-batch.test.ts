/**
 * redis/key-batch.ts, through its reads (read-batch.ts) and stores (store-batch.ts), against a real
 * redis-server: what is asked in one turn of the event loop is one script call; each item gets its own
 * answer; a key holding no string, and a key the ACL user may not touch, are that item's answer only, never
 * the whole batch's.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { aclRule } from '../../src/redis/acl.js'
import { ReadBatcher, MAX_KEYS_PER_CALL } from '../../src/redis/read-batch.js'
import { StoreBatcher } from '../../src/redis/store-batch.js'
import { defineScripts } from '../../src/redis/scripts.js'
import { commandCalls } from '../helpers/cache.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const client = (port: number, options: Record<string, unknown> = {}): Redis => {
  const r = new Redis(port, '127.0.0.1', { enableAutoPipelining: true, autoPipeliningIgnoredCommands: ['readWithTtl', 'storeResults'], ...options })
  defineScripts(r)
  return r
}

t.test('reads of one turn go as one call; each gets its own key\'s bytes and PTTL', async t => {
  const server = await startRedis(t)
  const admin = new Redis(server.port, '127.0.0.1')
  const r = client(server.port)
  t.teardown(() => { admin.disconnect(); r.disconnect() })
  await admin.set('rb:a', 'alpha', 'EX', 100)
  await admin.set('rb:b', Buffer.from([0xff, 0x00, 0x7b]))
  await admin.rpush('rb:list', 'x')
  const batch = new ReadBatcher(r)
  const before = await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval')
  const [a, b, missing, list] = await Promise.all(['rb:a', 'rb:b', 'rb:none', 'rb:list'].map(k => batch.read(k)))
  const calls = await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval') - before
  t.equal(calls, 1, 'four reads, one script call')
  t.ok(a !== undefined && !('wrongType' in a) && a.value?.toString() === 'alpha' && a.pttlMs > 90_000 && a.pttlMs <= 100_000, 'a value and its PTTL')
  t.ok(b !== undefined && !('wrongType' in b) && b.value?.equals(Buffer.from([0xff, 0x00, 0x7b])) && b.pttlMs === -1, 'bytes as stored, no expiry')
  t.same(missing, { value: null, pttlMs: -2 }, 'no key')
  t.same(list, { wrongType: true }, 'a list is that key\'s answer; the others in the call are read')
})

t.test('more reads than one call holds are split into calls of at most MAX_KEYS_PER_CALL', async t => {
  const server = await startRedis(t)
  const admin = new Redis(server.port, '127.0.0.1')
  const r = client(server.port)
  t.teardown(() => { admin.disconnect(); r.disconnect() })
  const n = MAX_KEYS_PER_CALL * 2 + 3
  const pipe = admin.pipeline()
  for (let i = 0; i < n; i++) pipe.set(`rb:k${i}`, `v${i}`)
  await pipe.exec()
  const batch = new ReadBatcher(r)
  const before = await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval')
  const found = await Promise.all(Array.from({ length: n }, (_, i) => batch.read(`rb:k${i}`)))
  t.equal(await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval') - before, 3, `${n} reads, 3 calls`)
  t.ok(found.every((f, i) => !('wrongType' in f) && f.value?.toString() === `v${i}`), 'every read its own value, in order')
})

t.test('a key the ACL user may not read fails that read only, named as the GET it is', async t => {
  const server = await startRedis(t)
  const admin = new Redis(server.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  await admin.call('ACL', 'SETUSER', 'gateway', 'reset', ...aclRule('app1_', 'gw-pw'))
  await admin.set('app1_celery-task-meta-ok', 'mine')
  await admin.set('app2_celery-task-meta-other', 'theirs')
  const r = client(server.port, { username: 'gateway', password: 'gw-pw' })
  t.teardown(() => r.disconnect())
  const batch = new ReadBatcher(r)
  const [ok, denied] = await Promise.allSettled([batch.read('app1_celery-task-meta-ok'), batch.read('app2_celery-task-meta-other')])
  t.match(ok, { status: 'fulfilled', value: { pttlMs: -1 } }, 'the permitted key is read')
  t.equal(ok.status === 'fulfilled' && !('wrongType' in ok.value) ? ok.value.value?.toString() : undefined, 'mine')
  t.match(denied, { status: 'rejected', reason: { message: /^NOPERM/, command: { name: 'get' } } }, 'the denied key alone fails, as a GET')
})

t.test('stores of one turn go as one call; each key guarded and published on its own', async t => {
  const server = await startRedis(t)
  const admin = new Redis(server.port, '127.0.0.1')
  const sub = new Redis(server.port, '127.0.0.1')
  const r = client(server.port)
  t.teardown(() => { admin.disconnect(); sub.disconnect(); r.disconnect() })
  await admin.rpush('sb:list', 'x')
  const heard: string[] = []
  await sub.subscribe('sb:a', 'sb:b', 'sb:fence')
  sub.on('message', (channel: string) => heard.push(channel))
  const stores = new StoreBatcher(r)
  const doc = (state: string, n: number) => Buffer.from(`{"status": "${state}", "result": ${n}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}`)
  const before = await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval')
  const answers = await Promise.allSettled([
    stores.store({ key: 'sb:a', payload: doc('SUCCESS', 1), ttlSeconds: 100 }),
    stores.store({ key: 'sb:a', payload: doc('SUCCESS', 2), ttlSeconds: 100 }),
    stores.store({ key: 'sb:list', payload: doc('SUCCESS', 3), ttlSeconds: 0 }),
    stores.store({ key: 'sb:b', payload: doc('PROGRESS', 4), ttlSeconds: 0 })
  ])
  t.equal(await commandCalls(admin, 'evalsha') + await commandCalls(admin, 'eval') - before, 1, 'four stores, one script call')
  t.match(answers[0], { status: 'fulfilled', value: [1, 1] }, 'stored and published to its one subscriber')
  t.match(answers[1], { status: 'fulfilled', value: [0, 'SUCCESS'] }, 'a second, different SUCCESS of the same key in the same call is refused: the guard runs per key, in order')
  t.match(answers[2], { status: 'rejected', reason: { message: /^WRONGTYPE/ } }, 'a key holding a list fails that store alone')
  t.match(answers[3], { status: 'fulfilled', value: [1, 1] })
  t.equal((await admin.get('sb:a'))?.includes('"result": 1'), true, 'the first SUCCESS is kept')
  t.ok(await admin.ttl('sb:a') > 90)
  t.equal(await admin.ttl('sb:b'), -1, 'ttl 0: no expiry')
  t.equal(await admin.type('sb:list'), 'list', 'the list is untouched')
  // A fence: Redis delivers one connection's messages in order, so everything published before it has arrived.
  await admin.publish('sb:fence', 'x')
  await until(() => heard.includes('sb:fence'), 'the fence message')
  t.same(heard.filter(c => c !== 'sb:fence').sort(), ['sb:a', 'sb:b'], 'each stored key published once, the refused ones not')
})
