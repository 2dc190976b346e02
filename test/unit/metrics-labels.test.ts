import t from 'tap'
import { isLongPoll, statusLabel, waitBuckets } from '../../src/plugins/metrics-labels.js'

t.test('code is the exact status from a closed set', async t => {
  for (const s of [200, 204, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503]) t.equal(statusLabel(s), String(s))
  t.equal(statusLabel(418), 'other')
  t.equal(statusLabel(299), 'other')
})

t.test('long-polls and streams are told apart by route template', async t => {
  for (const r of ['/v1/results/:taskId/wait', '/v1/groups/:groupId/wait', '/v1/results/:taskId/events', '/v1/results::batchWait']) t.ok(isLongPoll(r), r)
  for (const r of ['/v1/results/:taskId', '/v1/results::batchGet', '/readyz', 'unmatched']) t.notOk(isLongPoll(r), r)
})

t.test('wait buckets end at RG_WAIT_MAX_SECONDS', async t => {
  t.same(waitBuckets(60).slice(-3), [30, 45, 60])
  t.equal(waitBuckets(20).at(-1), 20)
  t.equal(waitBuckets(7).at(-1), 7)
  t.ok(waitBuckets(7).every((b, i, a) => i === 0 || b > (a[i - 1] ?? 0)), 'increasing')
})
