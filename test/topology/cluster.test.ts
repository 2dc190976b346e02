import t from 'tap'
import calculateSlot from 'cluster-key-slot'
import { Redis } from 'ioredis'
import { runDoctor } from '../../src/ops/doctor.js'
import { collectStats } from '../../src/ops/stats.js'
import { buildTestApp } from '../helpers/app.js'
import { startCluster } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const COMMAND_TIMEOUT_MS = 500

t.test('Cluster: 3 masters + 3 replicas; every endpoint on every master, batch across slots, waits across nodes, a master lost', async t => {
  const cluster = await startCluster(t)
  const app = await buildTestApp(t, '', {
    RG_REDIS_URL: '',
    RG_REDIS_CLUSTER_NODES: cluster.seeds,
    RG_REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    RG_REDIS_CONNECT_TIMEOUT_MS: '500',
    RG_WAIT_MAX_SECONDS: '60'
  })
  const prefix = app.settings.redis.keyPrefix
  const keyOf = (id: string) => `${prefix}celery-task-meta-${id}`
  const put = (id: string, body: unknown) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: JSON.stringify(body) })
  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready: cluster_state:ok')

  // One id per master.
  const byMaster = new Map<number, string>()
  for (let i = 0; byMaster.size < 3; i++) {
    const id = `c-${i}`
    const port = await cluster.masterPortFor(calculateSlot(keyOf(id)))
    if (!byMaster.has(port)) byMaster.set(port, id)
  }
  for (const [port, id] of byMaster) {
    const stored = await put(id, { state: 'SUCCESS', result: { on: port } })
    t.equal(stored.statusCode, 200, `store on master ${port}`)
    t.match((await app.inject(`/v1/results/${id}`)).json(), { state: 'SUCCESS', result: { on: port } }, `fetch on master ${port}`)
    t.equal((await app.inject(`/v1/results/${id}/raw`)).statusCode, 200)
    t.match((await app.inject(`/v1/results/${id}/wait?timeoutSeconds=1`)).json(), { timedOut: false, state: 'SUCCESS' })
    const ttl = await app.inject({ method: 'PUT', url: `/v1/results/${id}/ttl`, headers: json, payload: '{"ttlSeconds":120}' })
    t.match(ttl.json(), { ttlSeconds: 120 }, `expire on master ${port}`)
    t.equal((await put(id, { state: 'FAILURE' })).statusCode, 409, 'SUCCESS stays final (Lua script on the key\'s master)')
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/results/${id}` })).statusCode, 204)
    t.equal((await app.inject(`/v1/results/${id}`)).statusCode, 404, `forgotten on master ${port}`)
  }

  const ids = Array.from({ length: 60 }, (_, i) => `batch-${i}`)
  t.ok(new Set(ids.map(id => calculateSlot(keyOf(id)))).size > 50, 'the batch spans many slots')
  for (const id of ids.slice(0, 40)) await put(id, { state: 'SUCCESS', result: id })
  const batch = await app.inject({ method: 'POST', url: '/v1/results:batchGet', headers: json, payload: JSON.stringify({ taskIds: ids }) })
  t.equal(batch.statusCode, 200, batch.body.slice(0, 300))
  const items = batch.json().results as Array<{ taskId: string, found: boolean, result?: { result: string } }>
  t.same(items.map(r => r.taskId), ids, 'answers in request order')
  t.ok(items.slice(0, 40).every(r => r.found && r.result?.result === r.taskId), 'every stored id found, from every slot')
  t.ok(items.slice(40).every(r => !r.found), 'the others reported missing')

  // A waiter woken by a PUBLISH sent to a node other than the one the gateway subscribed on, as a Celery
  // worker connected elsewhere would: the cluster bus carries it.
  const subPort = app.redisSubscriber.options.port
  const waiting = app.inject('/v1/results/cross-node/wait?timeoutSeconds=30')
  await eventually(async () => app.waiter.stats.channels, n => n === 1, 'the waiter is subscribed')
  const other = cluster.nodes.find(n => n.port !== subPort)
  t.ok(other)
  const publisher = new Redis({ port: other?.port ?? 0, host: '127.0.0.1' })
  t.teardown(() => publisher.disconnect())
  const doc = JSON.stringify({ status: 'SUCCESS', result: 'via another node', traceback: null, children: [], date_done: '2026-11-25T00:00:00.000000', task_id: 'cross-node' })
  await publisher.publish(keyOf('cross-node'), doc)
  t.match((await waiting).json(), { timedOut: false, state: 'SUCCESS', result: { result: 'via another node' } }, `woken by a PUBLISH on node ${other?.port ?? 0}, subscribed on ${subPort ?? 0}`)

  // Lose the master the subscriber is on (or any master): its replica takes over; the gateway carries on.
  const masters = [...byMaster.keys()]
  const victimPort = masters.includes(subPort ?? -1) ? subPort as number : masters[0] as number
  const victim = cluster.nodes.find(n => n.port === victimPort)
  const victimId = byMaster.get(victimPort) as string
  const survivor = cluster.nodes.find(n => n.port !== victimPort) as { port: number }
  const waitingAcross = app.inject(`/v1/results/${victimId}-waited/wait?timeoutSeconds=60`)
  await eventually(async () => app.waiter.stats.channels, n => n === 1, 'the second waiter is subscribed')

  const failures: Array<{ status: number, ms: number, retryAfter: boolean }> = []
  let firstFailureAt = 0
  let recoveredAt = 0
  const killedAt = Date.now()
  victim?.process.kill('SIGKILL')
  for (let i = 0; recoveredAt === 0 || Date.now() - recoveredAt < 1000; i++) {
    if (Date.now() - killedAt > 60_000) break
    const started = Date.now()
    const res = await put(`${victimId}-after-${i}`, { state: 'SUCCESS', result: i })
    const ms = Date.now() - started
    if (res.statusCode === 200) {
      if (firstFailureAt !== 0 && recoveredAt === 0) recoveredAt = Date.now()
    } else {
      if (firstFailureAt === 0) firstFailureAt = started
      recoveredAt = 0
      failures.push({ status: res.statusCode, ms, retryAfter: res.headers['retry-after'] !== undefined })
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.not(recoveredAt, 0, 'stores to the lost master\'s slots work again after the replica took over')
  t.ok(failures.length > 0, 'the loss was noticed')
  t.same([...new Set(failures.map(f => f.status))], [503], 'every request meanwhile got a 503')
  t.ok(failures.every(f => f.retryAfter), 'each with Retry-After')
  const slowest = Math.max(...failures.map(f => f.ms))
  t.ok(slowest < COMMAND_TIMEOUT_MS + 3000, `no request hung past the timeouts (slowest 503 took ${slowest} ms)`)
  t.comment(`cluster master loss: ${((recoveredAt - firstFailureAt) / 1000).toFixed(1)} s of 503s (${failures.length} requests, slowest ${slowest} ms), ` +
    `recovered ${((recoveredAt - killedAt) / 1000).toFixed(1)} s after the kill`)
  await eventually(async () => (await app.inject('/readyz')).statusCode, s => s === 200, 'ready again')
  const checks = await runDoctor(app.settings.redis)
  t.match(checks.find(c => c.name === 'topology'), { status: 'warn', detail: new RegExp(`cluster_state:ok, but 1 node\\(s\\) failed: 127\\.0\\.0\\.1:${victimPort}`) }, 'the doctor names the failed node')
  const stats = await collectStats(app.redis, { prefix, count: 100, pauseMs: 0 })
  t.ok(stats.complete && stats.scannedKeys >= 40, `statistics walk every surviving master (${stats.scannedKeys} keys)`)
  t.equal((await cluster.clusterInfo(survivor.port)).cluster_state, 'ok')

  const stored = await put(`${victimId}-waited`, { state: 'SUCCESS', result: 'after the loss' })
  t.equal(stored.statusCode, 200)
  t.match((await waitingAcross).json(), { timedOut: false, result: { result: 'after the loss' } }, 'a waiter from before the loss is woken after it')
  await eventually(async () => app.waiter.stats.channels, n => n === 0, 'no subscription left behind')
})
