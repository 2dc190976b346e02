/**
 * The control: the least an HTTP front door on Node can do per fetch — bare Fastify and ioredis (auto-
 * pipelined) passing the stored bytes through, no auth, metrics, headers or checks. Run beside the gateway so
 * the report shows, in the same run, how much of the gap to webdis is Node's HTTP stack itself.
 * Usage: node --import tsx bench/control.ts <http port> <redis port>
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const [port, redisPort] = process.argv.slice(2).map(Number)
const redis = new Redis(redisPort ?? 6379, '127.0.0.1', { enableAutoPipelining: true })
const app = Fastify()
app.get<{ Params: { id: string } }>('/raw/:id', async (req, reply) => {
  const raw = await redis.getBuffer(`celery-task-meta-${req.params.id}`)
  return raw === null ? reply.code(404).send() : reply.type('application/json').send(raw)
})
app.get('/healthz', async () => 'ok')
await app.listen({ host: '127.0.0.1', port: port ?? 0 })
process.on('SIGTERM', () => {
  redis.disconnect()
  app.close().then(() => process.exit(0), () => process.exit(1))
})
