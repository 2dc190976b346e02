/**
 * #14.3: failovers are 503s, never 500s. A Cluster master is SIGKILLed under mixed auto-pipelined traffic
 * (stores, reads, batches, group reads, readiness), its replica takes over, the killed node is restarted (it
 * rejoins as the new master's replica) and the new master is killed in turn — several times in one run, so
 * the race shows: an auto-pipelined batch answered with MOVED for several slots is not retried by ioredis
 * and, before the fix, reached the client as 500 RG_INTERNAL "MOVED <slot> <address>".
 */
import t from 'tap'
import type { Response as InjectResponse } from 'light-my-request'
import calculateSlot from 'cluster-key-slot'
import { buildTestApp } from '../helpers/app.js'
import { startCluster } from '../helpers/redis-server.js'
import { measureStalls } from '../helpers/stalls.js'
import { eventually } from '../helpers/until.js'

const json = { 'content-type': 'application/json' }
const CYCLES = 5
const TIMEOUT_MS = 1000

interface Answer { what: string, status: number, code: string, detail: string, retryAfter: boolean, ms: number }

t.test(`a Cluster master killed ${CYCLES} times under mixed traffic: never a 500, every failure a 503 with Retry-After`, async t => {
  const cluster = await startCluster(t)
  const app = await buildTestApp(t, '', {
    RG_REDIS_URL: '',
    RG_REDIS_CLUSTER_NODES: cluster.seeds,
    RG_REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
    RG_REDIS_CONNECT_TIMEOUT_MS: '500'
  })
  const prefix = app.settings.redis.keyPrefix
  const victimSlot = calculateSlot(`${prefix}celery-task-meta-v-0`)
  const answers: Answer[] = []
  const run = { stop: false }
  const record = async (what: string, run: () => Promise<InjectResponse>): Promise<void> => {
    const started = performance.now()
    const res = await run()
    const body = res.statusCode >= 400 ? res.json() as { code?: string, detail?: string } : {}
    answers.push({ what, status: res.statusCode, code: body.code ?? '', detail: body.detail ?? '', retryAfter: res.headers['retry-after'] === '1', ms: performance.now() - started })
  }
  // Many keys in many slots at once, so one node's auto-pipeline carries several slots when MOVED comes back.
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !run.stop; i++) {
      const id = `v-${(w * 7 + i) % 64}`
      await Promise.all([
        record('PUT', () => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: json, payload: `{"state":"STARTED","meta":{"i":${i}}}` })),
        record('GET', () => app.inject(`/v1/results/v-${(w + i) % 64}`)),
        record('raw', () => app.inject(`/v1/results/v-${(w + i + 1) % 64}/raw`)),
        record('batchGet', () => app.inject({ method: 'POST', url: '/v1/results:batchGet', headers: json, payload: JSON.stringify({ taskIds: [`v-${i % 64}`, `v-${(i + 9) % 64}`, `v-${(i + 17) % 64}`] }) })),
        ...(i % 5 === 0 ? [record('groups', () => app.inject(`/v1/groups/g-${w}`)), record('readyz', () => app.inject('/readyz'))] : [])
      ])
    }
  }
  const stalls = measureStalls()
  const workers = Array.from({ length: 12 }, (_, w) => worker(w))
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const victimPort = await cluster.masterPortFor(victimSlot)
    const victim = cluster.nodes.find(n => n.port === victimPort)
    victim?.process.kill('SIGKILL')
    await new Promise(resolve => victim?.process.once('exit', resolve))
    await eventually(() => cluster.masterPortFor(victimSlot), p => p !== victimPort, `cycle ${cycle}: a replica took over slot ${victimSlot}`)
    const survivor = cluster.nodes.find(n => n.port !== victimPort) as { port: number }
    await eventually(async () => (await cluster.clusterInfo(survivor.port)).cluster_state, s => s === 'ok', `cycle ${cycle}: cluster_state:ok`)
    // Back as the new master's replica, in sync: the next kill can fail over again.
    await cluster.restart(victimPort)
    await eventually(async () => {
      const info = await cluster.clusterInfo(victimPort)
      return info.cluster_state === 'ok' && (await cluster.masterPortFor(victimSlot)) !== victimPort
    }, ok => ok, `cycle ${cycle}: node ${victimPort} rejoined`)
    await new Promise(resolve => setTimeout(resolve, 1500))
  }
  run.stop = true
  await Promise.all(workers)

  const failed = answers.filter(a => a.status >= 500)
  const fiveHundreds = failed.filter(a => a.status === 500)
  t.comment(`${answers.length} answers over ${CYCLES} failovers: ${failed.length} 5xx (${fiveHundreds.length} × 500` +
    `${fiveHundreds.length > 0 ? `, e.g. ${fiveHundreds[0]?.what} "${fiveHundreds[0]?.detail}"` : ''}); slowest ${Math.max(...answers.map(a => a.ms)).toFixed(0)} ms`)
  t.same(fiveHundreds.map(a => `${a.what} ${a.code} ${a.detail}`).slice(0, 5), [], 'no 500 at all')
  t.ok(failed.every(a => a.status === 503 && a.code === 'RG_REDIS_UNAVAILABLE' && a.retryAfter), 'every failure a 503 redis-unavailable with Retry-After')
  t.notOk(answers.some(a => a.status >= 400 && /MOVED|ASK|127\.0\.0\.1/.test(a.detail)), 'no answer names a Redis node or a redirection')
  // Failing over is a connection state like any other: the deadline holds (the unchanged code answered after
  // 2.8–3.8 s here; the MOVED 500s above showed in one run of three, so this is the check that always bites).
  // Client and gateway share this process: the bound adds its longest event-loop stall (helpers/stalls.ts).
  const stallMs = stalls.stop()
  const slowest = Math.max(...answers.map(a => a.ms))
  t.ok(slowest < TIMEOUT_MS + 800 + stallMs, `every answer within the command timeout + 800 ms + ${stallMs} ms stalled (slowest ${slowest.toFixed(0)} ms)`)
  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready after the last failover')
})
