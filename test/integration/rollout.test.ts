/**
 * A rolling update as Kubernetes does it: SIGTERM arrives while clients still send new requests (the pod
 * leaves the Service endpoints a second or more later). During RG_SHUTDOWN_DRAIN_SECONDS the gateway must
 * accept and answer everything, over fresh and kept-alive connections, while /readyz says 503 shutting-down;
 * then it answers its waiters, finishes what is in flight and exits 0.
 */
import { request, Agent } from 'node:http'
import t from 'tap'
import { freePort } from '../../src/redis/spawn.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'

interface Outcome { start: number, end: number, status?: number, code?: string, error?: string }

/** One GET; resolves with the status and problem code, or with the connection error (never rejects). */
function get (port: number, path: string, agent: Agent | false): Promise<Outcome> {
  const start = Date.now()
  return new Promise(resolve => {
    const req = request({ host: '127.0.0.1', port, path, agent }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => {
        const code = /"code":"(\w+)"/.exec(body)?.[1]
        resolve({ start, end: Date.now(), status: res.statusCode ?? 0, ...(code === undefined ? {} : { code }) })
      })
      res.on('error', err => resolve({ start, end: Date.now(), error: (err as NodeJS.ErrnoException).code ?? err.message }))
    })
    req.on('error', err => resolve({ start, end: Date.now(), error: (err as NodeJS.ErrnoException).code ?? err.message }))
    req.end()
  })
}

/** Sends GETs back to back until `stop()` holds, recording each outcome. */
async function loop (port: number, path: string, agent: Agent | false, stop: () => boolean, out: Outcome[]): Promise<void> {
  while (!stop()) {
    const o = await get(port, path, agent)
    out.push(o)
    // After a refused connection the gateway is gone; do not spin.
    if (o.error !== undefined) await new Promise(resolve => setTimeout(resolve, 20))
  }
}

t.test('SIGTERM: drain (accept and answer, /readyz 503), then close; nothing dropped, exit 0', async t => {
  const drainMs = 3000
  const redis = await startRedis(t)
  const port = await freePort()
  const srv = runServer(t, {
    RG_HTTP_PORT: String(port),
    RG_REDIS_URL: redis.url,
    RG_AUTH_DISABLED: 'true',
    RG_SHUTDOWN_DRAIN_SECONDS: String(drainMs / 1000),
    RG_LOG_LEVEL: 'info'
  })
  await srv.listening()
  const put = await fetch(`http://127.0.0.1:${port}/v1/results/rollout`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"state":"SUCCESS","result":1}' })
  t.equal(put.status, 200)

  // A long-poll in flight across the whole shutdown: it must get an answer (interrupted), not a reset.
  const waiter = fetch(`http://127.0.0.1:${port}/v1/results/never/wait?timeoutSeconds=30`)
    .then(async r => ({ status: r.status, body: await r.json() as Record<string, unknown> }), (err: Error) => ({ status: 0, body: { error: err.message } }))

  let exited = false
  srv.exited.then(() => { exited = true }, () => {})
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 })
  t.teardown(() => keepAlive.destroy())
  const fresh: Outcome[] = []
  const kept: Outcome[] = []
  const ready: Outcome[] = []
  const path = '/v1/results/rollout'
  const loops = [
    loop(port, path, false, () => exited, fresh),
    loop(port, path, keepAlive, () => exited, kept),
    loop(port, path, keepAlive, () => exited, kept),
    loop(port, '/readyz', false, () => exited, ready)
  ]
  await new Promise(resolve => setTimeout(resolve, 300))
  const sigterm = Date.now()
  srv.child.kill('SIGTERM')
  const code = await srv.exited
  await Promise.all(loops)

  t.equal(code, 0, 'exit 0')
  const w = await waiter
  t.equal(w.status, 200, 'the waiter got an answer')
  t.match(w.body, { interrupted: true, state: 'PENDING' })

  // The drain window as the client sees it: from SIGTERM to a second before the drain ends. The margin
  // absorbs a loaded CI box's scheduling delays; it is a deadline-style bound, not a performance threshold.
  const inDrain = (o: Outcome): boolean => o.start >= sigterm && o.start < sigterm + drainMs - 1000
  const drained = [...fresh, ...kept].filter(inDrain)
  const failed = drained.filter(o => o.error !== undefined || o.status !== 200)
  t.ok(drained.length >= 10, `${drained.length} requests sent during the drain`)
  t.same(failed, [], 'no connection error, reset or non-200 during the drain')
  t.ok(fresh.filter(inDrain).length > 0 && kept.filter(inDrain).length > 0, 'both fresh and kept-alive connections were used during the drain')

  const readyInDrain = ready.filter(o => o.start >= sigterm + 500 && inDrain(o))
  t.ok(readyInDrain.length > 0, 'readiness was probed during the drain')
  t.ok(readyInDrain.every(o => o.status === 503 && o.code === 'RG_SHUTTING_DOWN'), '/readyz answers 503 shutting-down during the drain')
  t.ok(ready.filter(o => o.end < sigterm).every(o => o.status === 200), '/readyz answered 200 before SIGTERM')

  const all = [...fresh, ...kept]
  const errors = all.filter(o => o.error !== undefined)
  t.comment(`rollout figures: ${all.length} requests in all; ${drained.length} sent during the drain ` +
    `(${fresh.filter(inDrain).length} fresh, ${kept.filter(inDrain).length} kept-alive), ${failed.length} failed; ` +
    `${ready.length} readiness probes, ${readyInDrain.length} in the drain (503); after the drain ` +
    `${errors.length} refused/reset (${[...new Set(errors.map(e => e.error))].join(', ') || 'none'}), as expected once the listener is closed`)
})
