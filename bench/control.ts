/**
 * The control: the least an HTTP front door on Node can do per fetch — bare Fastify and ioredis (auto-
 * pipelined) passing the stored bytes through, no auth, metrics, headers or checks. Run beside the gateway so
 * the report shows, in the same run, how much of the gap to webdis is Node's HTTP stack itself.
 * /view/:id is the second control: the same bare Fastify doing only the work the fetch view's contract asks
 * of any implementation (README, #16): the key's TTL for Cache-Control, the stored document validated and its
 * view built (the gateway's own fast view), an ETag digest of the stored bytes. No auth, metrics, hooks,
 * deadlines or error model: what is left between it and the gateway is the gateway's own plumbing.
 * Usage: node --import tsx bench/control.ts <http port> <redis port>
 */
import { hash } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { fastJsonView } from '../src/celery/fast-view.js'

const [port, redisPort] = process.argv.slice(2).map(Number)
const redis = new Redis(redisPort ?? 6379, '127.0.0.1', { enableAutoPipelining: true })
const app = Fastify()
app.get<{ Params: { id: string } }>('/raw/:id', async (req, reply) => {
  const raw = await redis.getBuffer(`celery-task-meta-${req.params.id}`)
  return raw === null ? reply.code(404).send() : reply.type('application/json').send(raw)
})
app.get<{ Params: { id: string } }>('/view/:id', async (req, reply) => {
  const key = `celery-task-meta-${req.params.id}`
  const [raw, ttl] = await Promise.all([redis.getBuffer(key), redis.ttl(key)])
  if (raw === null) return reply.code(404).send()
  const view = fastJsonView(raw, req.params.id)
  if (view === null) return reply.code(500).send()
  const maxAge = ttl < 0 ? 300 : Math.min(ttl, 300)
  return reply.header('etag', `"view-${hash('sha1', raw, 'base64url')}"`).header('cache-control', `private, max-age=${maxAge}`)
    .type('application/json; charset=utf-8').send(view.body)
})
app.get('/healthz', async () => 'ok')
await app.listen({ host: '127.0.0.1', port: port ?? 0 })
process.on('SIGTERM', () => {
  redis.disconnect()
  app.close().then(() => process.exit(0), () => process.exit(1))
})
