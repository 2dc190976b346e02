import t from 'tap'
import { ttlBucket } from '../../src/ops/stats.js'

t.test('TTL buckets hold "at most" their bound, so a result stays in one bucket as its TTL runs down', async t => {
  // The default TTL is a day: fresh (86400) and a second later (86399) must count alike, or the statistics
  // race the clock (ops.test.ts failed under load when the scan ran a second after the stores).
  t.equal(ttlBucket(86400), 'under_1d')
  t.equal(ttlBucket(86399), 'under_1d')
  t.equal(ttlBucket(3600), 'under_1h')
  t.equal(ttlBucket(3601), 'under_1d')
  t.equal(ttlBucket(7 * 86400), 'under_7d')
  t.equal(ttlBucket(7 * 86400 + 1), 'over_7d')
  t.equal(ttlBucket(-1), 'none')
})
