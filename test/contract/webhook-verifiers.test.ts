/**
 * The signature verifiers docs/webhooks.md shows (examples/python, examples/go-webhook, examples/typescript) accept a
 * delivery a real gateway signed and sent to a loopback receiver, and refuse it with its body changed or another secret.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { PYTHON } from '../helpers/celery.js'
import { newSecret, startReceiver, type Received } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const examples = join(root, 'examples')
// A cold Go build on a loaded 2-core box takes a while; later runs reuse the cache.
t.setTimeout(300_000)

function need (binary: string, pkg: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) if (existsSync(join(dir, binary))) return join(dir, binary)
  throw new Error(`${binary} not found: install ${pkg} (apt-get install ${pkg}; listed in scripts/packages/test.txt)`)
}

function verdict (cmd: string, args: string[], cwd: string, input: unknown): Promise<string> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '', GOCACHE: join(tmpdir(), 'result-gateway-gocache') }
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd, env, timeout: 240_000 }, (err, stdout, stderr) => {
      if (err !== null && stdout === '') reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
      else resolve(stdout.trim())
    })
    child.stdin?.end(JSON.stringify(input))
  })
}

t.test('the documented verifiers accept a real delivery and refuse a tampered one', async t => {
  const redis = await startRedis(t)
  const receiver = await startReceiver(t)
  // Two secrets: the rotation case, each verifier must find its v1 entry among several.
  const [current, previous] = [newSecret(), newSecret()]
  const app = await buildTestApp(t, redis.url, { RG_WEBHOOK_SECRET: `${previous} ${current}`, RG_WEBHOOK_ALLOWED_HOSTS: receiver.hostPort })
  const id = randomUUID()
  await app.inject({ method: 'PUT', url: `/v1/results/${id}/webhook`, payload: { url: `${receiver.base}/verify` } })
  await app.inject({ method: 'PUT', url: `/v1/results/${id}`, payload: { state: 'SUCCESS', result: { text: 'héllo ✓' } } })
  await until(() => receiver.received.length === 1, 'the delivery')
  const r = receiver.received[0] as Received
  t.equal(String(r.headers['webhook-signature']).split(' ').length, 2, 'one signature per secret')
  const verifiers: Array<[string, string, string[], string]> = [
    ['python', PYTHON, [join(examples, 'python/verify_webhook.py')], examples],
    ['go', need('go', 'golang-go'), ['run', '.'], join(examples, 'go-webhook')],
    ['typescript', process.execPath, ['--import', 'tsx', join(examples, 'typescript/verify-webhook.ts')], root]
  ]
  for (const [name, cmd, args, cwd] of verifiers) {
    t.equal(await verdict(cmd, args, cwd, { secret: current, headers: r.headers, body: r.body }), 'valid', `${name}: the current secret`)
    t.equal(await verdict(cmd, args, cwd, { secret: previous, headers: r.headers, body: r.body }), 'valid', `${name}: the previous secret`)
    t.match(await verdict(cmd, args, cwd, { secret: current, headers: r.headers, body: r.body.replace('héllo', 'hello') }), /^invalid/, `${name}: a changed body`)
    t.match(await verdict(cmd, args, cwd, { secret: newSecret(), headers: r.headers, body: r.body }), /^invalid/, `${name}: another secret`)
  }
})
