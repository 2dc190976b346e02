/**
 * #24.2: a Redis at maxmemory shows in /metrics — keys evicted and expired (Redis's counters), used / max
 * memory, and the writes it refused by reason — on a real redis-server: allkeys-lru evicting unexpired
 * results, then noeviction refusing stores while reads and /readyz stay 200.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const doc = JSON.stringify({ state: 'SUCCESS', result: 'x'.repeat(3800) })

/** The value of one series in a /metrics text, or undefined when it is absent. */
function series (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${name}${labels === '' ? '' : `{${labels}`}`) && !l.startsWith('#'))
  return line === undefined ? undefined : Number(line.split(' ').pop())
}

t.test('evictions, memory ratio and refused writes are in /metrics; reads and /readyz stay 200', async t => {
  const redis = await startRedis(t, ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'])
  const app = await buildTestApp(t, redis.url)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  const metrics = async (): Promise<string> => (await app.inject('/metrics')).body
  for (let i = 0; i < 1500; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => app.inject({ method: 'PUT', url: `/v1/results/ev-${i + j}`, headers: json, payload: doc })))
  }
  const evicted = Number(/evicted_keys:(\d+)/.exec(await admin.info('stats'))?.[1])
  t.ok(evicted > 0, `Redis evicted results (${evicted})`)
  const text = await eventually(metrics, m => (series(m, 'result_gateway_redis_evicted_keys_total', 'node=') ?? 0) >= evicted, 'evictions in /metrics')
  t.match(text, /^# TYPE result_gateway_redis_evicted_keys_total counter$/m, 'evicted keys: a counter')
  t.match(text, /^# TYPE result_gateway_redis_expired_keys_total counter$/m, 'expired keys: a counter')
  t.match(text, `result_gateway_redis_evicted_keys_total{node="127.0.0.1:${redis.port}"}`, 'per master')
  const ratio = series(text, 'result_gateway_redis_memory_used_ratio', 'node=') ?? 0
  t.ok(ratio > 0.5 && ratio < 2, `used / max memory as a ratio (${ratio})`)
  t.equal(series(text, 'result_gateway_redis_write_refusals_total', 'reason="oom"'), 0, 'no refusals yet (the series exists at 0)')

  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  // A result still stored, found now that nothing is evicted any more. Not "the last one written": Redis's LRU
  // clock ticks once a second, so the ~2 s of stores above look equally old to allkeys-lru and any of them,
  // the last included, may have gone.
  let kept: string | undefined
  for (let cursor = '0', first = true; kept === undefined && (first || cursor !== '0'); first = false) {
    const [next, keys] = await admin.scan(cursor, 'MATCH', '*celery-task-meta-ev-*', 'COUNT', 1000)
    cursor = next
    kept = keys[0]
  }
  t.ok(kept !== undefined, 'some results survived the evictions')
  const keptId = (kept ?? '').replace(/^.*celery-task-meta-/, '')
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => app.inject({ method: 'PUT', url: `/v1/results/full-${i}`, headers: json, payload: doc })))
  const refused = answers.filter(a => a.statusCode === 503).length
  t.ok(refused > 0, `stores refused once full (${refused} of 200)`)
  t.same([...new Set(answers.map(a => a.statusCode))].filter(s => s !== 200 && s !== 503), [], 'every answer 200 or 503, never 500')
  const after = await metrics()
  t.equal(series(after, 'result_gateway_redis_write_refusals_total', 'reason="oom"'), refused, 'each refused store counted as oom')
  t.equal((await app.inject('/readyz')).statusCode, 200, '/readyz 200 while only writes are refused')
  t.equal((await app.inject(`/v1/results/${keptId}`)).statusCode, 200, `reads 200 (${keptId}, stored before)`)
})
