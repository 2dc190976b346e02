/** routes/v1/conditional.ts's pure rules: the ETag per representation, Cache-Control, If-None-Match matching. */
import t from 'tap'
import { cacheControl, etagOf, matches, MAX_AGE_CAP_SECONDS } from '../../src/routes/v1/conditional.js'

t.test('a strong ETag per representation of the same stored bytes', async t => {
  const bytes = Buffer.from('{"status": "SUCCESS"}')
  t.match(etagOf(bytes, 'view'), /^"view-[\w-]+"$/)
  t.not(etagOf(bytes, 'view'), etagOf(bytes, 'raw'))
  t.equal(etagOf(bytes, 'raw'), etagOf(Buffer.from(bytes), 'raw'), 'a digest of the bytes')
  t.not(etagOf(bytes, 'raw'), etagOf(Buffer.from('{"status": "FAILURE"}'), 'raw'))
})

t.test('Cache-Control says what is true: ready results until their TTL (capped), anything else never', async t => {
  t.equal(cacheControl(false, 100), 'no-store')
  t.equal(cacheControl(true, 100), 'private, max-age=100')
  t.equal(cacheControl(true, 100_000), `private, max-age=${MAX_AGE_CAP_SECONDS}`)
  t.equal(cacheControl(true, -1), `private, max-age=${MAX_AGE_CAP_SECONDS}`, 'no TTL: the cap')
})

t.test('If-None-Match: weak comparison, lists, and *', async t => {
  const tag = '"view-abc"'
  t.notOk(matches(undefined, tag))
  t.ok(matches(tag, tag))
  t.ok(matches(`W/${tag}`, tag))
  t.ok(matches(`"other", ${tag}`, tag))
  t.ok(matches('*', tag))
  t.notOk(matches('"view-abd"', tag))
})
