/**
 * The process as an operator meets it: --help/--version on the server and the `result-gateway` command, unknown
 * RG_* variables named with the closest known one, one line per bad enum (process.test.ts: logs, failed starts).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort } from '../../src/redis/spawn.js'
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
