/**
 * The gateway process as an operator meets it: no duplicate keys in a JSON log line, no orphaned throwaway
 * Redis after a failed start, pretty logs at a terminal and JSON otherwise. (Split from cli.test.ts so each
 * file stays within the per-file timeout on a loaded CI box.)
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import t from 'tap'
import { freePort, spawnTied, stopProcess } from '../../src/redis/spawn.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer, SERVER_START_MS } from '../helpers/server.js'
import { until } from '../helpers/until.js'

const SERVER = new URL('../../src/server.ts', import.meta.url).pathname

t.test('JSON log lines carry each key once (no second pid)', async t => {
  const port = await freePort()
  const srv = runServer(t, { RG_HTTP_PORT: String(port) })
  await srv.listening()
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
  const lines = srv.output().split('\n').filter(l => l.startsWith('{'))
  t.ok(lines.some(l => /throwaway redis-server/.test(l)), 'the throwaway Redis line is there')
  for (const line of lines) {
    const keys = [...line.matchAll(/"(\w+)":/g)].map(m => m[1])
    t.same(keys.filter((k, i) => keys.indexOf(k) !== i), [], `no duplicate key: ${line.slice(0, 80)}`)
    t.doesNotThrow(() => JSON.parse(line))
  }
})

t.test('a failed start (port busy) stops the throwaway redis-server', async t => {
  const busy = createServer()
  await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => busy.close())
  const port = (busy.address() as { port: number }).port
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_LOG_LEVEL: 'info' })
  t.equal(await srv.exited, 1)
  t.match(srv.output(), /EADDRINUSE/)
  const redisPid = Number(/"redisPid":(\d+)/.exec(srv.output())?.[1])
  t.ok(redisPid > 0, 'the throwaway Redis had started')
  let alive = true
  try { process.kill(redisPid, 0) } catch { alive = false }
  t.notOk(alive, `redis-server ${redisPid} is gone`)
})

t.test('pretty logs at a terminal (pino-pretty), JSON otherwise', async t => {
  const redis = await startRedis(t)
  const port = await freePort()
  // python3's pty module gives the gateway a terminal as stdout.
  const child = spawnTied('/usr/bin/python3', ['-c', 'import pty, sys; pty.spawn(sys.argv[1:])', process.execPath, '--import', 'tsx', SERVER], {
    env: { PATH: process.env.PATH ?? '', RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_AUTH_DISABLED: 'true', RG_SHUTDOWN_DRAIN_SECONDS: '0' },
    stdin: 'pipe'
  })
  t.teardown(() => stopProcess(child))
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  await until(() => /Server listening/.test(output), 'the server to listen', SERVER_START_MS)
  t.match(output, /INFO.*Server listening/, 'pino-pretty format')
  t.notMatch(output, /"level":30/, 'not JSON')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)

  // The terminal goes away (an SSH session drops): the gateway, its session leader, gets SIGHUP and must exit.
  // It used to stay behind at 100 % CPU: close-with-grace listened for SIGSEGV too, and a JS listener turns a
  // fault into a handler that returns to the faulting instruction, forever (Node's docs warn against it).
  const gateway = Number(readFileSync(`/proc/${child.pid ?? 0}/task/${child.pid ?? 0}/children`, 'utf8').trim())
  t.ok(gateway > 0, `the gateway runs as pid ${gateway} under the pty`)
  await stopProcess(child)
  const gone = (): boolean => {
    try {
      // A zombie has exited: only its parent (init, here) has yet to reap it.
      return /^State:\s+Z/m.test(readFileSync(`/proc/${gateway}/status`, 'utf8'))
    } catch { return true }
  }
  await until(gone, `the gateway (pid ${gateway}) to exit after its terminal closed`).catch(err => {
    try { process.kill(gateway, 'SIGKILL') } catch {}
    throw err
  })
  t.ok(gone(), 'the gateway exited when its terminal closed')
})
