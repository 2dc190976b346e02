/**
 * RG_WORKERS=2 for real: src/server.ts as a child process forking two workers on one port. Requests are
 * served, /metrics adds up both workers' figures whichever worker the scrape lands on, and SIGTERM to the
 * primary answers every worker's waiters `interrupted` and exits 0.
 */
import { createServer, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { freePort } from '../../src/redis/spawn.js'
import { runServer, SERVER_START_MS } from '../helpers/server.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually } from '../helpers/until.js'

/** One GET on a connection of its own (the primary hands connections to the workers in turn). */
function fresh (url: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

function series (text: string, name: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${name} `))
  return line === undefined ? 0 : Number(line.slice(name.length + 1))
}

t.test('two workers: served, metrics aggregated, SIGTERM answers waiters and exits 0', async t => {
  const redis = await startRedis(t)
  const port = await freePort()
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_AUTH_DISABLED: 'true', RG_WORKERS: '2', RG_LOG_LEVEL: 'info' })
  const base = `http://127.0.0.1:${port}`
  await eventually(async () => (srv.output().match(/Server listening/g) ?? []).length, n => n === 2 || srv.child.exitCode !== null, 'two workers listening', SERVER_START_MS)
  // (each worker compiles the server with tsx: as slow as a server start, see helpers/server.ts)
  t.equal(srv.child.exitCode, null, 'the primary runs')
  const put = await fetch(`${base}/v1/results/w1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"state":"SUCCESS","result":1}' })
  t.equal(put.status, 200)

  const N = 40
  const answers = await Promise.all(Array.from({ length: N }, () => fresh(`${base}/v1/results/w1`)))
  t.ok(answers.every(a => a.status === 200 && a.body.includes('"result":1')), 'every fetch answered by some worker')
  const route = 'result_gateway_http_requests_total{route="/v1/results/:taskId",method="GET",code="200"}'
  for (let scrape = 0; scrape < 4; scrape++) {
    // Each scrape lands on either worker; the counts are the sum over both, never one worker's share.
    const text = (await fresh(`${base}/metrics`)).body
    t.equal(series(text, route), N, `scrape ${scrape + 1}: GET count summed over the workers`)
    t.equal(series(text, 'result_gateway_redis_connection_up{role="data"}'), 2, 'one data connection per worker, both counted')
    // Constants are one figure for the host, not one per worker added up.
    t.match(text, /^result_gateway_build_info\{[^}]*\} 1$/m, 'build_info is 1, not summed')
    t.equal(series(text, 'result_gateway_wait_max_seconds'), 60, 'a configured limit is the limit, not summed')
    t.equal(series(text, 'result_gateway_redis_nodes_up{role="master"}'), 1, 'the one master, as every worker sees it')
  }

  const waits = Array.from({ length: 4 }, (_, i) => fresh(`${base}/v1/results/sig-${i}/wait?timeoutSeconds=30`))
  await eventually(async () => series((await fresh(`${base}/metrics`)).body, 'result_gateway_waiters'), n => n === 4, 'four waiters across the workers')
  srv.child.kill('SIGTERM')
  for (const w of await Promise.all(waits)) {
    t.equal(w.status, 200)
    t.match(JSON.parse(w.body), { interrupted: true, state: 'PENDING' })
  }
  t.equal(await srv.exited, 0, 'the primary exits 0 once every worker has')
  t.equal((srv.output().match(/shutting down/g) ?? []).length, 3, 'the primary and both workers shut down')
})

t.test('a worker that cannot start stops the primary with exit 1 (no restart loop)', async t => {
  const redis = await startRedis(t)
  // The port is taken: the primary forks, and every worker's listen fails.
  const taken = createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { taken.close() })
  const port = (taken.address() as AddressInfo).port
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_AUTH_DISABLED: 'true', RG_WORKERS: '2' })
  t.equal(await srv.exited, 1)
  t.match(srv.output(), /started workers/)
  t.match(srv.output(), /EADDRINUSE/)
  t.notMatch(srv.output(), /worker exited; starting a new one/, 'a worker that never listened is not restarted')
})

t.test('a fatal Redis problem is found once, by the primary, before any worker is forked', async t => {
  const redis = await startRedis(t)
  const port = await freePort()
  // TLS against a plain-text port is fatal at start.
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_REDIS_URL: `rediss://127.0.0.1:${redis.port}/0`, RG_AUTH_DISABLED: 'true', RG_WORKERS: '2' })
  t.equal(await srv.exited, 1)
  t.match(srv.output(), /cannot use Redis/)
  t.equal((srv.output().match(/cannot use Redis/g) ?? []).length, 1, 'said once')
  t.notMatch(srv.output(), /started workers/)
})
