/**
 * The harness's throwaway servers survive a port taken between freePort()'s pick and redis-server's bind
 * (a CI run failed on it: "Could not create server TCP listening socket … Address already in use").
 */
import { createServer, type Server } from 'node:net'
import t, { type Test } from 'tap'
import { freePort, onFreePort, PortInUseError, spawnRedis } from '../../src/redis/spawn.js'

async function occupied (t: Test): Promise<number> {
  const srv: Server = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => srv.close(() => resolve())))
  const addr = srv.address()
  if (addr === null || typeof addr === 'string') throw new Error('no address')
  return addr.port
}

const redisOn = (port: number) => spawnRedis('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port)

t.test('a port taken before the bind is told apart from other failures', async t => {
  const port = await occupied(t)
  t.ok(await redisOn(port).then(() => false, err => err instanceof PortInUseError), 'PortInUseError on a taken port')
  const other = await spawnRedis('redis-server', ['--no-such-option', 'x'], port).then(() => undefined, (err: unknown) => err)
  t.ok(other instanceof Error && !(other instanceof PortInUseError), 'a plain Error on a bad option')
  t.match(other, { message: /exited with 1/ })
})

t.test('onFreePort starts again on another port when the picked one was taken', async t => {
  const taken = await occupied(t)
  const picks: number[] = []
  const pick = async (): Promise<number> => { const p = picks.length === 0 ? taken : await freePort(); picks.push(p); return p }
  const redis = await onFreePort(redisOn, pick)
  t.teardown(() => redis.stop())
  t.equal(picks.length, 2, 'picked twice')
  t.equal(picks[0], taken)
  t.equal(redis.port, picks[1], 'runs on the second pick')
  t.not(redis.port, taken)
})

t.test('onFreePort gives up after its tries, and does not retry other errors', async t => {
  const taken = await occupied(t)
  let calls = 0
  t.ok(await onFreePort(redisOn, async () => { calls++; return taken }, 3).then(() => false, err => err instanceof PortInUseError), 'the last PortInUseError')
  t.equal(calls, 3)
  calls = 0
  await t.rejects(onFreePort(async () => { calls++; throw new Error('other') }), { message: 'other' })
  t.equal(calls, 1)
})
