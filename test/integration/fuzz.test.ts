/**
 * A seeded fuzz round over a real socket against a real gateway process (scripts/fuzz.ts; `npm run fuzz` runs
 * the long one): no 5xx but 503, the process stays up, memory settles, results stored before are untouched,
 * every answer carries a bounded X-Request-Id; hostile stored values (a zlib bomb, invalid JSON) are read too.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { runServer, SERVER_START_MS } from '../helpers/server.js'
import { until } from '../helpers/until.js'
import { Redis } from 'ioredis'
import { hostileValues, runFuzz } from '../../scripts/fuzz.js'
import { freePort } from '../../src/redis/spawn.js'
import { startRedis } from '../helpers/redis-server.js'

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)

t.test('fuzzing a live gateway loses nothing and answers every request properly', async t => {
  const redis = await startRedis(t)
  const port = await freePort()
  const { child } = runServer(t, { RG_REDIS_URL: redis.url, RG_HTTP_PORT: String(port), RG_AUTH_DISABLED: 'true', RG_LOG_LEVEL: 'fatal', RG_WAIT_MAX_SECONDS: '1', RG_WAIT_DEFAULT_SECONDS: '1' })
  const base = `http://127.0.0.1:${port}`
  // No log line to wait for at level fatal: /healthz answers once it listens.
  await until(() => fetch(`${base}/healthz`).then(r => r.ok, () => false), 'the gateway to listen', SERVER_START_MS)
  const client = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => client.quit())
  const kept = ['keep-1', 'keep-2', 'keep-3']
  for (const id of kept) {
    const res = await fetch(`${base}/v1/results/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'SUCCESS', result: { id, ü: '✓' } }) })
    t.equal(res.status, 200)
  }
  for (const [id, value] of hostileValues()) await client.set(`celery-task-meta-${id}`, value)
  const before = await Promise.all(kept.map(id => client.getBuffer(`celery-task-meta-${id}`)))
  await runFuzz(base, 300, 99) // warm-up: JIT, pools, caches
  const rssBefore = rssMb(child.pid ?? 0)
  const stats = await runFuzz(base, 3000, 1)
  t.ok(stats.sent >= 3000, `${stats.sent} requests sent: ${JSON.stringify(stats.byStatus)}`)
  t.same(stats.unexpected5xx, [], 'no 5xx other than 503')
  t.same(stats.badRequestIds.slice(0, 5), [], 'every answer carries a bounded X-Request-Id')
  t.equal(child.exitCode, null, 'the process is still running')
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  const after = await Promise.all(kept.map(id => client.getBuffer(`celery-task-meta-${id}`)))
  t.same(after, before, 'results stored before the run are byte-identical')
  await new Promise(resolve => setTimeout(resolve, 500))
  const rssAfter = rssMb(child.pid ?? 0)
  t.ok(rssAfter < rssBefore + 150, `resident memory settles: ${rssBefore} MB → ${rssAfter} MB`)
})
