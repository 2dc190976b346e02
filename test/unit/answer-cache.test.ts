import t from 'tap'
import { AnswerCache, pageBytesFor } from '../../src/cache/answer-cache.js'
import { ANSWER_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, TTL_ROUNDING_MS, ttlSecondsAt } from '../../src/cache/entry.js'
import { ByteArena } from '../../src/cache/arena.js'
import { invalidatedKeys, trackedPrefixes } from '../../src/cache/tracking.js'

const doc = (n: number) => Buffer.from(`{"status":"SUCCESS","result":${n}}`)

/** A live cache whose begin() admits every key at once (each key is first seen by a read that fills nothing). */
function liveCache (maxBytes = 1 << 20): AnswerCache {
  const c = new AnswerCache(maxBytes)
  c.goLive()
  const begin = c.begin.bind(c)
  c.begin = (key: string) => begin(key) ?? begin(key)
  return c
}

t.test('a read fills only if nothing invalidated its key while it was in flight', async t => {
  const c = liveCache()
  const now = Date.now()
  const a = c.begin('k')
  c.invalidate('k') // a write's invalidation arrives before the read's reply
  t.equal(c.fillFound(a, doc(1), -1, now), null, 'the read that raced an invalidation is discarded')
  t.equal(c.get('k'), undefined)
  const b = c.begin('k')
  t.ok(c.fillFound(b, doc(2), -1, now), 'a read begun after the invalidation fills')
  t.same(JSON.parse(String((c.get('k') as { raw: Buffer }).raw)), { status: 'SUCCESS', result: 2 })
  // Two reads in flight, an invalidation between them: the older one may not fill, the newer one may.
  const old = c.begin('j')
  c.invalidate('j')
  const young = c.begin('j')
  t.ok(c.fillFound(young, doc(4), -1, now))
  t.equal(c.fillFound(old, doc(3), -1, now), null)
  t.match(c.get('j'), { missing: false })
  t.same(JSON.parse(String((c.get('j') as { raw: Buffer }).raw)), { status: 'SUCCESS', result: 4 })
})

t.test('a flush voids every read in flight; nothing fills while dark', async t => {
  const c = liveCache()
  const a = c.begin('k')
  c.flush()
  t.equal(c.fillFound(a, doc(1), -1, Date.now()), null)
  c.fillMissing(c.begin('m'))
  t.match(c.get('m'), { missing: true })
  const inFlight = c.begin('n')
  c.goDark()
  t.equal(c.get('m'), undefined, 'flushed')
  t.equal(c.begin('x'), null, 'no ticket while dark')
  c.goLive()
  t.equal(c.fillFound(inFlight, doc(1), -1, Date.now()), null, 'a read from before the outage never fills after it')
  t.equal(c.size, 0)
})

t.test('an entry is never served at its key\'s expiry, and max-age comes from the deadline at answer time', async t => {
  const c = liveCache()
  const start = 1_000_000
  const e = c.fillFound(c.begin('k'), doc(1), 10_000, start)
  t.ok(e)
  t.equal(e?.expiresAt, start + 10_000)
  t.equal(ttlSecondsAt(start + 10_000, start), 10)
  t.equal(ttlSecondsAt(start + 10_000, start + 4_400), 6)
  t.equal(ttlSecondsAt(Infinity, start), -1)
  t.ok(c.get('k', start + 9_000))
  t.equal(c.get('k', start + 10_000 - TTL_ROUNDING_MS), undefined, 'dropped half a second early (TTL is rounded)')
  t.equal(c.fillFound(c.begin('z'), doc(1), 0, start), null, 'a key about to expire is not cached')
})

t.test('bounded by bytes, least recently used out first', async t => {
  const one = doc(1).length + ENTRY_OVERHEAD_BYTES
  const c = liveCache(one * 4)
  for (const k of ['a', 'b', 'c', 'e']) c.fillFound(c.begin(k), doc(1), -1, Date.now())
  t.equal(c.size, 4)
  t.ok(c.get('a'), 'a used: b is now the oldest')
  c.release(c.begin('d')) // d missed more often than b: admitted over it (see the admission test below)
  c.fillFound(c.begin('d'), doc(1), -1, Date.now())
  t.equal(c.size, 4)
  t.equal(c.get('b'), undefined, 'b evicted')
  t.ok(c.get('a'))
  t.ok(c.bytes <= c.maxBytes)
  const e = c.get('d')
  if (e !== undefined && !e.missing) c.keepView(e, { body: doc(1), etag: '"v"', state: 'SUCCESS', ready: true })
  t.ok(c.bytes <= c.maxBytes, 'growth evicts too')
  t.equal(new AnswerCache(0).live, false)
  const small = liveCache(100)
  t.equal(small.fillFound(small.begin('big'), Buffer.alloc(1000, 0x20), -1, Date.now()), null, 'an answer above a quarter of the bound is not kept')
})

t.test('a view read keeps only its view: half the bytes of the document and the view; a raw read of that key misses and fills the bytes', async t => {
  const hits: string[] = []
  const c = new AnswerCache(1 << 20, { hit: () => hits.push('hit'), miss: () => hits.push('miss'), invalidated: () => {}, flushed: () => {} })
  c.goLive()
  c.release(c.begin('k')) // its first miss lately: the second fills
  const body = Buffer.from('{"taskId":"k","state":"SUCCESS","result":1}')
  const kept = c.fillView(c.begin('k'), { body, etag: '"v"', state: 'SUCCESS', ready: true }, -1, Date.now())
  t.same(kept.body, body)
  t.not(kept.body.buffer, body.buffer, 'its body copied into the pages')
  t.equal(c.bytes, pageBytesFor(c.maxBytes) + ENTRY_OVERHEAD_BYTES + ANSWER_OVERHEAD_BYTES, 'counted: its page and one answer\'s overhead')
  const e = c.get('k')
  t.match(e, { missing: false, view: { etag: '"v"' } })
  t.equal(e !== undefined && !e.missing ? e.raw : null, undefined, 'no stored bytes kept')
  t.equal(c.get('k', Date.now(), true), undefined, 'a raw read misses')
  t.same(hits, ['hit', 'miss'])
  t.ok(c.fillFound(c.begin('k'), doc(1), -1, Date.now()), 'and fills the entry again with the bytes')
  const again = c.get('k', Date.now(), true)
  t.ok(again !== undefined && !again.missing && again.raw !== undefined && again.view === undefined, 'the view is made again from them')
  c.invalidate('k')
  t.equal(c.get('k'), undefined, 'invalidated like any entry')
  t.equal(c.fillView(c.begin('x'), { body, etag: '"v"', state: 'SUCCESS', ready: true }, -1, Date.now()).body, body, 'not admitted (first miss): the view is answered as it was')
  t.equal(c.size, 0)
})

t.test('the stored bytes are copied into the cache\'s own pages, never kept as a view of a socket\'s buffer', async t => {
  const c = liveCache()
  const chunk = Buffer.concat([doc(1), Buffer.alloc(60_000)])
  const e = c.fillFound(c.begin('k'), chunk.subarray(0, doc(1).length), -1, Date.now())
  t.not(e?.raw.buffer, chunk.buffer, 'not the socket chunk')
  t.equal(e?.raw.buffer.byteLength, pageBytesFor(c.maxBytes), 'a page of the cache')
  chunk.fill(0)
  t.same(JSON.parse(String(e?.raw)), { status: 'SUCCESS', result: 1 }, 'a copy')
  if (e === null || e === undefined) return
  const view = c.keepView(e, { body: Buffer.from('{"state":"SUCCESS"}'), etag: '"v"', state: 'SUCCESS', ready: true })
  t.equal(view.body.buffer, e.raw.buffer, 'the view\'s body is kept in the same page')
  t.equal(String(view.body), '{"state":"SUCCESS"}')
})

t.test('pages: bytes of unread entries go with their page; a second chance moves an entry\'s bytes to the newest page', async t => {
  const body = Buffer.alloc(1000, 0x61)
  // 64 KiB bound: 1 KiB pages, one entry's bytes per page.
  const c = liveCache(64 * 1024)
  t.equal(pageBytesFor(c.maxBytes), 1024)
  const fill = (k: string) => c.fillFound(c.begin(k), body, -1, Date.now())
  const first = fill('hot')
  if (first === null) throw new Error('not filled')
  const firstPage = first.raw.buffer
  for (let i = 0; c.size < 40; i++) fill(`k${i}`)
  t.ok(c.get('hot'), 'hot is read')
  // Full: keys missed more often than the entries come in over them, and evictions pass the hot entry.
  for (let i = 40; i < 200; i++) {
    c.release(c.begin(`k${i}`))
    c.release(c.begin(`k${i}`))
    fill(`k${i}`)
  }
  t.notOk(c.get('k0'), 'unread entries were evicted')
  const hot = c.get('hot')
  t.ok(hot !== undefined && !hot.missing, 'the read entry survived')
  if (hot === undefined || hot.missing || hot.raw === undefined) return
  t.not(hot.raw.buffer, firstPage, 'and its bytes moved out of its first page')
  t.same(hot.raw, body, 'unchanged')
  t.ok(c.bytes <= c.maxBytes, `the bound counts the pages: ${c.bytes} ≤ ${c.maxBytes}`)
  c.flush()
  t.equal(c.bytes, 0)
})

t.test('the byte arena: pages go when nothing on them is kept, never reused while they are held', async t => {
  const a = new ByteArena(100)
  const x = a.copy(Buffer.from('x'.repeat(40)))
  const y = a.copy(Buffer.from('y'.repeat(40)))
  t.equal(x.buffer, y.buffer, 'one page')
  t.equal(a.bytes, 100)
  const z = a.copy(Buffer.from('z'.repeat(40))) // no room: a second page
  t.not(z.buffer, x.buffer)
  t.equal(a.bytes, 200)
  a.free(x)
  t.equal(a.bytes, 200, 'y still on the first page')
  a.free(y)
  t.equal(a.bytes, 100, 'the first page went')
  t.equal(String(x), 'x'.repeat(40), 'a freed copy is never overwritten (a response may still be sending it)')
  const big = a.copy(Buffer.alloc(500, 0x62))
  t.equal(big.buffer.byteLength, 500, 'bigger than a page: a page of its own')
  t.equal(a.bytes, 600)
  const moved = a.move(big)
  t.equal(a.bytes, 600, 'moved: the old page went, the new one came')
  t.not(moved.buffer, big.buffer)
  a.free(moved)
  a.free(z)
  t.equal(a.bytes, 100, 'the current page stays, empty')
  a.clear()
  t.equal(a.bytes, 0)
  t.equal(a.pages, 0)
})

t.test('admission: a key fills on its second read, not its first', async t => {
  const c = new AnswerCache(1 << 20)
  c.goLive()
  t.equal(c.begin('k'), null, 'first miss: not admitted')
  const second = c.begin('k')
  t.ok(second, 'second miss: admitted')
  t.ok(c.fillFound(second, doc(1), -1, Date.now()))
  c.flush()
  t.equal(c.begin('k'), null, 'a flush forgets what was seen')
})

t.test('admission once full: a key comes in only over an entry missed less often lately (TinyLFU)', async t => {
  const one = doc(1).length + ENTRY_OVERHEAD_BYTES
  const c = liveCache(one * 4)
  for (const k of ['a', 'b', 'c', 'e']) c.fillFound(c.begin(k), doc(1), -1, Date.now())
  t.equal(c.fillFound(c.begin('x'), doc(1), -1, Date.now()), null, 'missed as often as the entry it would evict: refused, nothing replaced')
  t.equal(c.size, 4)
  t.ok(['a', 'b', 'c', 'e'].every(k => c.get(k) !== undefined), 'every entry kept')
  c.release(c.begin('y'))
  c.release(c.begin('y'))
  t.ok(c.fillFound(c.begin('y'), doc(1), -1, Date.now()), 'missed more often than the oldest unused entry: admitted')
  t.equal(c.size, 4, 'one entry made room')
  const wide = liveCache(one * 8)
  wide.fillFound(wide.begin('p'), doc(1), -1, Date.now())
  t.ok(wide.fillFound(wide.begin('q'), doc(1), -1, Date.now()), 'while there is room, any admitted key comes in')
})

t.test('tracking helpers', async t => {
  t.same(trackedPrefixes(['celery-task-meta-', 'a_celery-task-meta-', 'celery-task-meta-']), ['celery-task-meta-', 'a_celery-task-meta-'])
  t.same(trackedPrefixes(['x:celery-task-meta-', 'x:celery-task-meta-y']), ['x:celery-task-meta-'], 'an overlapping prefix is covered by the shorter one')
  t.equal(invalidatedKeys(null), null, 'null is flush-all')
  t.same(invalidatedKeys([Buffer.from('a'), Buffer.from('b')]), ['a', 'b'])
  t.same(invalidatedKeys(Buffer.from('a')), ['a'])
})

t.test('the frequency sketch: counts reads, never below the truth, fades with age', async t => {
  const { FrequencySketch } = await import('../../src/cache/frequency.js')
  const s = new FrequencySketch(1024)
  for (let i = 0; i < 5; i++) s.increment('hot')
  s.increment('warm')
  t.equal(s.frequency('hot'), 5)
  t.equal(s.frequency('warm'), 1)
  t.equal(s.frequency('never'), 0)
  for (let i = 0; i < 40; i++) s.increment('capped')
  t.equal(s.frequency('capped'), 15, 'counters saturate')
  let overestimated = 0
  for (let i = 0; i < 500; i++) s.increment(`k${i}`)
  for (let i = 0; i < 500; i++) if (s.frequency(`k${i}`) < 1) overestimated++
  t.equal(overestimated, 0, 'never below the true count')
  for (let i = 0; i < 10 * 1024; i++) s.increment(`fill${i % 64}`)
  t.ok(s.frequency('hot') < 5, 'halved once the sample is full: old reads count for less')
  t.throws(() => new FrequencySketch(1000), /power of two/)
})
