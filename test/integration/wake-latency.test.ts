/**
 * result_gateway_wake_latency_seconds ends when the answer has been written, not when the wait was decided.
 * A client that does not read holds a 16 MB answer in the gateway's socket (far beyond what loopback buffers
 * take in), so "decided" and "written" are two states the test can observe apart, with no timing involved.
 */
import { connect, type Socket } from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const BIG = 16 * 1024 * 1024

/** Sends one raw HTTP request and reads nothing until `drain()` is called; drain() resolves with the body. */
function stalledRequest (port: number, head: string, body = ''): { socket: Socket, drain: () => Promise<string> } {
  const socket = connect(port, '127.0.0.1')
  socket.pause()
  socket.write(`${head}\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  const drain = () => new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString()
      resolve(text.slice(text.indexOf('\r\n\r\n') + 4))
    })
    socket.on('error', reject)
    socket.resume()
  })
  return { socket, drain }
}

t.test('wake latency is observed once the answer is written', async t => {
  const server = await startRedis(t)
  // A long safety-net poll: the answers below come from the PUBLISH.
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000', RG_WAIT_MAX_SECONDS: '60' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const publishBig = async (id: string) => {
    const doc = JSON.stringify({ status: 'SUCCESS', result: 'x'.repeat(BIG), traceback: null, children: [], date_done: null, task_id: id })
    await redis.pipeline().setex(key(id), 300, doc).publish(key(id), doc).exec()
  }
  const wakeCount = async () => {
    const text = (await app.inject('/metrics')).body
    // A histogram with no observation yet has no _count line.
    return Number(/^result_gateway_wake_latency_seconds_count (\S+)$/m.exec(text)?.[1] ?? 0)
  }

  const cases: Array<[string, string, string, string]> = [
    ['GET /v1/results/{id}/wait', 'big-1', 'GET /v1/results/big-1/wait?timeoutSeconds=50 HTTP/1.1', ''],
    ['POST /v1/results:batchWait', 'big-2', 'POST /v1/results:batchWait HTTP/1.1\r\ncontent-type: application/json', JSON.stringify({ taskIds: ['big-2'], timeoutSeconds: 50 })]
  ]
  let count = await wakeCount()
  for (const [route, id, head, body] of cases) {
    t.test(route, async t => {
      const client = stalledRequest(port, head, body)
      t.teardown(() => client.socket.destroy())
      // Subscribed, not just registered: a PUBLISH before the SUBSCRIBE would be answered by the first read.
      await until(async () => (await redis.pubsub('NUMSUB', key(id)) as [string, number])[1] === 1, 'the subscription')
      await publishBig(id)
      // The wait is decided (its listener is gone) but the answer cannot be written while the client reads nothing.
      await until(() => app.waiter.stats.waiters === 0, 'the wake-up')
      t.equal(await wakeCount(), count, 'no wake latency observed before the answer is written')
      const answer = await client.drain()
      t.ok(answer.length > BIG, 'the whole answer arrived')
      t.match(answer, '"timedOut":false')
      await until(async () => await wakeCount() === count + 1, 'the wake latency observation')
      count++
    })
  }
})
