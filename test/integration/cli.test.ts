/**
 * The process as an operator meets it: --help/--version on the server and the `result-gateway` command, unknown
 * RG_* variables named with the closest known one, one line per bad enum, pretty logs at a terminal and JSON
 * otherwise, no duplicate keys in a log line, and no orphaned throwaway Redis after a failed start.
 */
import { execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort, stopProcess } from '../../src/redis/spawn.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'

const run = promisify(execFile)
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname
const SERVER = new URL('../../src/server.ts', import.meta.url).pathname
const VERSION = (await import('../../package.json', { with: { type: 'json' } })).default.version

t.test('--help and --version: the server entry and result-gateway', async t => {
  for (const entry of [SERVER, CLI]) {
    const help = await run(process.execPath, ['--import', 'tsx', entry, '--help'])
    t.match(help.stdout, /result-gateway .*\n/, `${entry}: help`)
    t.match(help.stdout, /RG_\*/)
    const version = await run(process.execPath, ['--import', 'tsx', entry, '--version'])
    t.equal(version.stdout, `${VERSION}\n`)
    await t.rejects(run(process.execPath, ['--import', 'tsx', entry, '--no-such-flag']), { code: 2 }, 'unknown flag: exit 2')
  }
})

t.test('one clear line per bad enum; unknown RG_* named with the closest variable', async t => {
  const bad = runServer(t, { RG_RESULT_SERIALIZER: 'pickle', RG_LOG_LEVEL: 'loud' })
  t.equal(await bad.exited, 1)
  const lines = bad.output().split('\n').filter(l => /RG_RESULT_SERIALIZER|RG_LOG_LEVEL/.test(l))
  t.same(lines, [
    '  - RG_RESULT_SERIALIZER: must be one of json, msgpack (got "pickle")',
    '  - RG_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'
  ])

  const redis = await startRedis(t)
  const port = await freePort()
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_AUTH_DISABLED: 'true', RG_WAIT_MAX_SECOND: '5', RG_LOG_LEVEL: 'info' })
  await srv.listening()
  t.match(srv.output(), /RG_WAIT_MAX_SECOND is not a result-gateway variable and is ignored; did you mean RG_WAIT_MAX_SECONDS\?/)
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
})

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
  const child = spawn('/usr/bin/python3', ['-c', 'import pty, sys; pty.spawn(sys.argv[1:])', process.execPath, '--import', 'tsx', SERVER], {
    env: { PATH: process.env.PATH ?? '', RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_AUTH_DISABLED: 'true', RG_SHUTDOWN_DRAIN_SECONDS: '0' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  t.teardown(() => stopProcess(child))
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  for (let i = 0; i < 600 && !/Server listening/.test(output); i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.match(output, /INFO.*Server listening/, 'pino-pretty format')
  t.notMatch(output, /"level":30/, 'not JSON')
  await fetch(`http://127.0.0.1:${port}/healthz`)
})
